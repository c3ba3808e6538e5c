"""The consumer test: TRL's DPOTrainer trains one step on the published dataset, loaded with
`datasets.load_dataset(out, config)` the way a user would."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import datasets
import pytest
import torch
from publish_models import build_gpt2
from publish_warehouse import ANSWERS, QUESTIONS, Fixture
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import DPOConfig, DPOTrainer

from publish import run_publish
from study_config import Study

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.mark.parametrize("config", ["pairs", "conversational"])
def test_dpo_trains_one_step_on_published_pairs(
    study_env: tuple[Study, Fixture], tmp_path: Path, config: str
) -> None:
    study, _ = study_env
    report = run_publish(study, progress=False)
    data = datasets.load_dataset(
        str(study.publish.out), config, cache_dir=str(tmp_path / "hf-cache")
    )
    train = data["train"]
    assert train.num_rows == report.pairs["train"]

    sentences = QUESTIONS + [a for answers in ANSWERS.values() for a in answers]
    tok_dir, model_dir = build_gpt2(tmp_path / "gpt2", sentences)
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
