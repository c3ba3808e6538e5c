"""The demo study generator: a realistic synthetic Prolific + Argilla collection with its ground
truth. Entry point: `generate_demo(out_dir, questions=1000, seed=42) -> DemoSummary`."""

from rlhfw.demo.generate import DemoSummary, generate_demo

__all__ = ["DemoSummary", "generate_demo"]
