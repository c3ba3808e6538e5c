"""The synthetic study generator, the one the demo, the tests and the benchmark use.

- `generate_demo(out_dir, questions=1000, seed=42) -> DemoSummary`: the demo study, a realistic
  Prolific + Argilla collection at any size, with the mess real studies have, written in every
  export format (`rlhfw demo`, `make bench`).
- `planted`: small studies in which each edge case is planted on purpose with its expected
  outcome (the tests' studies), written the same way (`write_study`) or landed as an API pull
  would land them (`rlhfw.demo.landed`).
"""

from rlhfw.demo.generate import DemoSummary, generate_demo, write_study

__all__ = ["DemoSummary", "generate_demo", "write_study"]
