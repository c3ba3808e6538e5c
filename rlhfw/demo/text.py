"""Word lists and templates for plausible social-reasoning questions and answers.

Texts are assembled from small lists so that a 100,000-question study stays cheap to build and
every question text is distinct (12 templates x 40 actors x 80 situations x 25 settings = 960,000
combinations). Answers to one question never collide: each writer slot of a question gets its own
opener. A few entries carry accents, CJK or emoji on purpose.
"""

from __future__ import annotations

import numpy as np

TEMPLATES = (
    "How should you respond when {a} {s} {t}?",
    "What is the kindest thing to do if {a} {s} {t}?",
    "Is it ever okay to say nothing when {a} {s} {t}?",
    "What would most people expect you to do if {a} {s} {t}?",
    "Why might someone feel hurt when {a} {s} {t}?",
    "How would you explain to a child why it matters when {a} {s} {t}?",
    "What is a fair way to handle it when {a} {s} {t}?",
    "What is the most respectful reaction when {a} {s} {t}?",
    "How can you tell whether it is rude when {a} {s} {t}?",
    "What does it usually mean when {a} {s} {t}?",
    "Should you bring it up if {a} {s} {t}?",
    "What would a good friend advise if {a} {s} {t}?",
)

ACTORS = (
    "your neighbour",
    "a coworker",
    "your manager",
    "a close friend",
    "your younger brother",
    "your older sister",
    "a classmate",
    "your roommate",
    "a stranger",
    "your partner",
    "your teenage son",
    "your teenage daughter",
    "a new colleague",
    "your landlord",
    "your best friend",
    "an elderly relative",
    "your team lead",
    "a fellow volunteer",
    "your flatmate",
    "a customer",
    "your teacher",
    "a family friend",
    "your cousin",
    "a shop assistant",
    "your colleague José",
    "your neighbour Zoë",
    "your friend 李明",
    "your aunt Renée",
    "someone in your group chat",
    "your doctor",
    "a waiter",
    "your coach",
    "your grandmother",
    "a bus driver",
    "your study partner",
    "an old school friend",
    "your mother-in-law",
    "a teammate",
    "your boss's assistant",
    "a new neighbour",
)

# Actor index -> topic label (record metadata).
TOPICS = ("neighbours", "work", "family", "friends", "strangers", "school")
ACTOR_TOPIC = (
    0,
    1,
    1,
    3,
    2,
    2,
    5,
    3,
    4,
    2,
    2,
    2,
    1,
    0,
    3,
    2,
    1,
    4,
    3,
    4,
    5,
    3,
    2,
    4,
    1,
    0,
    3,
    2,
    3,
    4,
    4,
    5,
    2,
    4,
    5,
    3,
    2,
    5,
    1,
    0,
)

SITUATIONS = (
    "keeps borrowing your things without asking",
    "forgets your birthday",
    "takes credit for your idea",
    "cancels plans at the last minute",
    "interrupts you repeatedly",
    "tells a joke that offends someone",
    "asks to borrow a large sum of money",
    "shares a secret you told them",
    "ignores your messages for a week",
    "criticises your cooking",
    "arrives an hour late without apologising",
    "posts a photo of you without asking",
    "gives you a very expensive gift",
    "asks you for a job reference",
    "complains about a mutual friend",
    "refuses to split the bill",
    "plays loud music late at night",
    "comments on your weight",
    "asks you to cover their shift again",
    "returns your car with an empty tank",
    "reads your messages over your shoulder",
    "brings an uninvited guest",
    "corrects your grammar in public",
    "keeps checking their phone while you talk",
    "asks personal questions about your salary",
    "blames you for their mistake",
    "does not thank you for a favour",
    "tells everyone your good news before you do",
    "makes a promise they clearly cannot keep",
    "asks you to lie for them",
    "leaves dirty dishes for you to clean",
    "takes the last slice without asking",
    "talks over you in a discussion",
    "gossips about a colleague",
    "gives you unsolicited advice about your relationship",
    "forgets to pay you back",
    "starts crying unexpectedly",
    "seems upset but says everything is fine",
    "invites everyone except you",
    "makes a racist remark",
    "asks you to keep a secret from your partner",
    "pressures you to drink",
    "compares you to your sibling",
    "mocks your accent",
    "tells you your work is not good enough",
    "shows up at your home unannounced",
    "asks for help moving house",
    "refuses to apologise after an argument",
    "is always negative about your plans",
    "takes a phone call during dinner",
    "uses your streaming account without asking",
    "cheats at a board game",
    "asks you to vote for their candidate",
    "spoils the ending of a film",
    "keeps sending you chain messages",
    "makes fun of your hobby",
    "laughs when you trip",
    "asks you to babysit on short notice",
    "announces a pregnancy",
    "loses something you lent them",
    "admits they made a serious mistake",
    "gives a speech that goes badly",
    "asks you to review their essay",
    "gets a promotion you wanted",
    "forgets your name",
    "says something sexist",
    "wants to split up with you",
    "eats food you labelled as yours",
    "tells the same story for the third time",
    "asks for your password",
    "parks in your spot",
    "ignores a queue",
    "asks to stay with you for a month",
    "shares fake news",
    "brings up politics",
    "keeps you waiting in the cold",
    "asks what you really think of their partner",
    "lies about being ill",
    "offers to pay for everything",
    "forgets an important deadline",
)

SETTINGS = (
    "at a family dinner",
    "at work",
    "in front of your friends",
    "during a team meeting",
    "on a group chat",
    "at a wedding",
    "at a birthday party",
    "in a crowded café",
    "on the bus",
    "at school",
    "during a holiday",
    "after a funeral",
    "on social media",
    "at the gym",
    "in a shared kitchen",
    "at a job interview",
    "while you are on a deadline",
    "at a neighbourhood meeting",
    "in a restaurant",
    "over the phone",
    "during an online class",
    "at a sleepover",
    "in a shop",
    "at a football match",
    "at a colleague's farewell",
)

OPENERS = (
    "I think",
    "Honestly,",
    "In my opinion,",
    "Personally, I would say",
    "From experience,",
    "It depends, but",
    "I'd say",
    "Probably",
    "Generally,",
    "To be fair,",
)

ADVICE = (
    "you should talk to them privately",
    "it is best to stay calm and ask what happened",
    "you can let it go the first time",
    "you need to set a clear boundary",
    "you should explain how it made you feel",
    "it helps to ask a neutral person for advice",
    "you should give them the benefit of the doubt",
    "you can bring it up gently later",
    "it is worth writing down what you want to say first",
    "you should apologise if you overreacted",
    "you should thank them and move on",
    "a short, honest conversation is the way to go",
    "you should not make a scene",
    "it is fine to say no politely",
    "you should check that they are okay",
    "a bit of humour can defuse it",
    "you should be direct but kind",
    "you should wait until you have both calmed down",
    "it is better to ask than to assume",
    "you should keep it between the two of you",
    "you can suggest a compromise",
    "you should stand up for the person who was hurt",
    "it is okay to walk away",
    "you should acknowledge their feelings first",
    "you should offer to help",
    "you can change the subject and deal with it later",
    "you should make your expectations clear next time",
    "you should focus on the behaviour, not the person",
    "you should ask them what they need",
    "it is reasonable to feel annoyed",
)

REASONS = (
    "most people do not realise how their actions come across",
    "staying calm keeps the relationship intact",
    "nobody likes being called out in front of others",
    "assuming the worst usually makes things worse",
    "people respond better when they feel respected",
    "it shows you take the relationship seriously",
    "small things grow if nobody says anything",
    "they might be going through something you do not know about",
    "being honest now saves trouble later",
    "it gives them a chance to explain",
    "respect has to go both ways",
    "you cannot control how they react, only how you act",
    "a public argument rarely changes anyone's mind",
    "it is not your job to fix everything",
    "clear boundaries make friendships last",
    "everyone makes mistakes sometimes",
    "it keeps things fair for everyone involved",
    "kindness is usually returned",
    "silence can look like approval",
    "it avoids a misunderstanding",
)

CLOSERS = (
    "",
    "",
    "",
    "",
    "That usually works for me.",
    "It will not be easy though.",
    "Just my two cents.",
    "Worth a try.",
    "That is what I would do anyway.",
    "Hope that helps.",
)

# Non-ASCII variety: accented words, emoji, whole answers in other scripts.
EMOJI_CLOSERS = ("😊", "🙂👍", "🤷", "❤️", "😅 good luck!")
ACCENTED_EXTRAS = (
    "It sounds naïve, but it works.",
    "Think of it as déjà vu: it will happen again.",
    "Keep up the façade if you must, but not for long.",
    "Meet for a coffee at a café and talk it through.",
)
FOREIGN_ANSWERS = (
    "我会先冷静下来，然后私下和对方谈谈。",
    "我觉得应该直接但礼貌地说出来。",
    "Yo hablaría con esa persona en privado, sin prisa y con calma.",
    "À mon avis, il faut en parler franchement mais gentiment.",
    "Ich würde ruhig bleiben und später in Ruhe darüber sprechen.",
    "まずは落ち着いて、相手の話を聞くべきだと思います。",
    "Eu diria para conversar com calma e explicar como você se sentiu.",
    "Bence önce sakin kalmalı, sonra açıkça konuşmalısın.",
)

# Offensive answers: profanity that alt-profanity-check flags (probability > 0.99).
OFFENSIVE_ANSWERS = (
    "This is a stupid fucking question, just tell them to shut the hell up.",
    "Who gives a shit, people like that are idiots and deserve what they get.",
    "Tell them to go fuck themselves and walk out.",
    "Damn, that's a dumb ass situation, just ignore the bitch.",
    "Screw them, what a bunch of assholes.",
    "Fuck that, I would punch the bastard.",
)

DRAFT_FRAGMENTS = (
    "I would probably",
    "Not sure yet, maybe",
    "First I'd",
    "hmm",
    "It depends on",
)

QUESTION_COMBINATIONS = len(TEMPLATES) * len(ACTORS) * len(SITUATIONS) * len(SETTINGS)


def question_texts(rng: np.random.Generator, n: int) -> tuple[list[str], np.ndarray]:
    """`n` distinct question texts and each one's topic index."""
    m = min(n, QUESTION_COMBINATIONS)
    codes = rng.choice(QUESTION_COMBINATIONS, size=m, replace=False)
    codes, t = np.divmod(codes, len(SETTINGS))
    codes, s = np.divmod(codes, len(SITUATIONS))
    tpl, a = np.divmod(codes, len(ACTORS))
    texts = [
        TEMPLATES[i].format(a=ACTORS[j], s=SITUATIONS[k], t=SETTINGS[m_])
        for i, j, k, m_ in zip(tpl.tolist(), a.tolist(), s.tolist(), t.tolist(), strict=True)
    ]
    topics = np.asarray(ACTOR_TOPIC)[a]
    # Past the combination space (never at the documented sizes), number the repeats.
    extra = n - m
    if extra:
        texts += [f"{texts[i % m][:-1]} (case {i // m + 2})?" for i in range(extra)]
        topics = np.concatenate([topics, topics[np.arange(extra) % m]])
    return texts, topics


def answer_texts(rng: np.random.Generator, n_questions: int, slots: int) -> list[str]:
    """`n_questions * slots` answers, row-major by question; one opener per slot of a question."""
    n = n_questions * slots
    # A distinct opener per slot of a question keeps answers to one question apart.
    opener = np.argsort(rng.random((n_questions, len(OPENERS))), axis=1)[:, :slots].ravel()
    advice = rng.integers(0, len(ADVICE), n)
    reason = rng.integers(0, len(REASONS), n)
    closer = rng.integers(0, len(CLOSERS), n)
    second = rng.random(n) < 0.35
    advice2 = rng.integers(0, len(ADVICE), n)
    out = []
    for o, a, r, c, s2, a2 in zip(
        opener.tolist(),
        advice.tolist(),
        reason.tolist(),
        closer.tolist(),
        second.tolist(),
        advice2.tolist(),
        strict=True,
    ):
        text = f"{OPENERS[o]} {ADVICE[a]}, because {REASONS[r]}."
        if s2 and a2 != a:
            text += f" Also, {ADVICE[a2]}."
        if CLOSERS[c]:
            text += f" {CLOSERS[c]}"
        out.append(text)
    return out
