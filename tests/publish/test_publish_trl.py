"""The consumer tests: TRL's DPOTrainer and RewardTrainer train one step on the published
dataset, loaded with `datasets.load_dataset(out, config)` the way a user would.

The reward test proves what the reward loss receives: `pairs` has no `margin` column, so
RewardTrainer's loss is the plain `-logsigmoid(r_chosen - r_rejected)` (TRL subtracts a
column named `margin` inside it, and publish leaves that choice to the user); a margin the
user adds deliberately reaches the loss as given."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import datasets
import pytest
import torch
from publish_models import build_gpt2
from publish_warehouse import ANSWERS, QUESTIONS, Fixture
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer
from trl import DPOConfig, DPOTrainer, RewardConfig, RewardTrainer

from publish import run_publish
from study_config import Study

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _gpt2(tmp_path: Path) -> tuple[Path, Path]:
    sentences = QUESTIONS + [a for answers in ANSWERS.values() for a in answers]
    return build_gpt2(tmp_path / "gpt2", sentences)


def _load(study: Study, config: str, tmp_path: Path) -> datasets.DatasetDict:
    return datasets.load_dataset(
        str(study.publish.out), config, cache_dir=str(tmp_path / "hf-cache")
    )


@pytest.mark.parametrize("config", ["pairs", "conversational"])
def test_dpo_trains_one_step_on_published_pairs(
    study_env: tuple[Study, Fixture], tmp_path: Path, config: str
) -> None:
    study, _ = study_env
    report = run_publish(study, progress=False)
    train = _load(study, config, tmp_path)["train"]
    assert train.num_rows == report.pairs["train"]

    tok_dir, model_dir = _gpt2(tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(tok_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    # Given an instance, DPOTrainer would build the reference model from the hub: pass one.
    ref_model = copy.deepcopy(model)
    before = [p.detach().clone() for p in model.parameters()]

    args = DPOConfig(
        output_dir=str(tmp_path / "dpo"),
        max_steps=1,
        per_device_train_batch_size=4,
        max_length=128,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        logging_steps=1,
    )
    trainer = DPOTrainer(
        model=model,
        ref_model=ref_model,
        args=args,
        train_dataset=train,
        processing_class=tokenizer,
    )
    result = trainer.train()
    assert result.global_step == 1
    assert math.isfinite(result.training_loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


class _RecordingRewardTrainer(RewardTrainer):
    """RewardTrainer that keeps each batch's keys and its `margin` (None without one), as
    `compute_loss` receives them: what TRL's reward loss subtracts."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[tuple[set[str], list[float] | None]] = []

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        margin = inputs.get("margin")
        self.seen.append((set(inputs), None if margin is None else margin.tolist()))
        return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)


@pytest.mark.parametrize("deliberate_margin", [False, True])
def test_reward_trainer_gets_no_margin_unless_the_user_adds_one(
    study_env: tuple[Study, Fixture], tmp_path: Path, deliberate_margin: bool
) -> None:
    study, _ = study_env
    run_publish(study, progress=False)
    train = _load(study, "pairs", tmp_path)["train"]
    assert "margin" not in train.column_names
    assert {"score_chosen", "score_rejected", "preference_strength"} <= set(train.column_names)
    if deliberate_margin:
        # The card's recipe: a margin on a scale the user picks, here the strength itself.
        train = train.map(lambda r: {"margin": r["preference_strength"]})

    tok_dir, model_dir = _gpt2(tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(tok_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id
    before = [p.detach().clone() for p in model.parameters()]
    args = RewardConfig(
        output_dir=str(tmp_path / "reward"),
        max_steps=1,
        per_device_train_batch_size=train.num_rows,  # the whole split in the one step
        max_length=128,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        logging_steps=1,
    )
    trainer = _RecordingRewardTrainer(
        model=model, args=args, train_dataset=train, processing_class=tokenizer
    )
    result = trainer.train()
    assert result.global_step == 1
    assert math.isfinite(result.training_loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))

    [(keys, margin)] = trainer.seen
    if deliberate_margin:
        assert "margin" in trainer.train_dataset.column_names
        assert sorted(margin) == pytest.approx(sorted(train["preference_strength"]))
    else:
        # Neither the prepared dataset nor the loss's batch has one: the plain loss.
        assert "margin" not in trainer.train_dataset.column_names
        assert "margin" not in keys and margin is None
