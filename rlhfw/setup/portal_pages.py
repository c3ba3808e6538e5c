"""The portal's HTML pages: plain, self-contained (no script, no outside asset), every value
escaped."""

from __future__ import annotations

from html import escape

TASKS = {
    "writing": "write answers to the questions you are shown",
    "rating": "compare pairs of answers and say which is better",
}

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto;
       padding: 0 1rem; line-height: 1.5; color: #1a1a1a; }
h1 { font-size: 1.6rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .5rem 1rem;
     background: #f3f5f7; padding: 1rem 1.25rem; border-radius: .5rem; }
dt { font-weight: 600; }
dd { margin: 0; }
code { font-size: 1.1rem; background: #fff; padding: .1rem .4rem; border: 1px solid #ccd;
       border-radius: .25rem; user-select: all; }
a.button { display: inline-block; background: #1f5fbf; color: #fff; padding: .6rem 1.2rem;
           border-radius: .4rem; text-decoration: none; font-weight: 600; }
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def account_page(role: str, url: str, username: str, password: str, workspace: str) -> str:
    """The page a participant sees: where to log in, with what, and what to do there."""
    return _page(
        "Your Argilla account",
        f"<h1>Your account for this study</h1>"
        f"<p>In this study you {escape(TASKS[role])}, in Argilla, a web app for annotation. "
        "Open it, sign in with the username and password below, and open the dataset of your "
        "workspace.</p>"
        f"<p><a class='button' id='login' href='{escape(url, quote=True)}' target='_blank' "
        "rel='noopener noreferrer'>Open Argilla</a></p>"
        "<dl>"
        f"<dt>Argilla</dt><dd id='url'>{escape(url)}</dd>"
        f"<dt>Username</dt><dd><code id='username'>{escape(username)}</code></dd>"
        f"<dt>Password</dt><dd><code id='password'>{escape(password)}</code></dd>"
        f"<dt>Workspace</dt><dd id='workspace'>{escape(workspace)}</dd>"
        "</dl>"
        "<p>Keep this page open, or note the password: the study link shows this page again, "
        "with the same account. When you are done in Argilla, return to Prolific to "
        "complete the study.</p>",
    )


def message_page(title: str, text: str) -> str:
    """A page that says, in plain words, why there is no account to show."""
    return _page(title, f"<h1>{escape(title)}</h1><p id='message'>{escape(text)}</p>")
