"""Tiny local models built inside the tests: a BERT text classifier and a GPT-2 for DPO.

Both use tokenizers trained by `tokenizers` on a few sentences and are saved to a directory,
so the code under test loads them through the real `from_pretrained` path, offline.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    GPT2Config,
    GPT2LMHeadModel,
    PreTrainedTokenizerFast,
)


def _word_tokenizer(texts: list[str], max_length: int) -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(special_tokens=["[PAD]", "[UNK]", "[CLS]"])
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        model_max_length=max_length,
    )


def build_classifier(
    out: Path,
    labels: list[str],
    *,
    multi_label: bool = False,
    train: list[tuple[str, int]] | None = None,
    bias: list[float] | None = None,
    steps: int = 60,
) -> Path:
    """A 1-layer, 32-dim BERT classifier saved to `out`.

    `train`: (text, label index) pairs to fit it on, so it discriminates. `bias`: instead make
    the logits exactly `bias` for every input (zero classifier weights), for exact label math."""
    texts = [t for t, _ in train or []] + ["placeholder words for the vocabulary"]
    tokenizer = _word_tokenizer(texts, max_length=64)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        problem_type="multi_label_classification" if multi_label else "single_label_classification",
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    if bias is not None:
        with torch.no_grad():
            model.classifier.weight.zero_()
            model.classifier.bias.copy_(torch.tensor(bias))
    if train:
        enc = tokenizer([t for t, _ in train], padding=True, return_tensors="pt")
        target = torch.tensor([y for _, y in train])
        if multi_label:
            target = torch.nn.functional.one_hot(target, len(labels)).float()
        optim = torch.optim.AdamW(model.parameters(), lr=3e-3)
        model.train()
        for _ in range(steps):
            loss = model(**enc, labels=target).loss
            loss.backward()
            optim.step()
            optim.zero_grad()
    model.eval()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def build_gpt2(out: Path, sentences: list[str]) -> tuple[Path, Path]:
    """A randomly initialised 2-layer, 32-dim GPT-2 and its byte-level BPE tokenizer."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(sentences, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )
    # For the conversational format: a minimal chat template.
    tokenizer.chat_template = (
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}assistant: {% endif %}"
    )
    tok_dir, model_dir = out / "tokenizer", out / "model"
    tokenizer.save_pretrained(tok_dir)
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_layer=2,
        n_embd=32,
        n_head=2,
        n_positions=256,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    GPT2LMHeadModel(config).save_pretrained(model_dir)
    return tok_dir, model_dir
