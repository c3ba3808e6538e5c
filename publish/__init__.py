"""The publish step: toxicity scores, preference pairs, and a Hugging Face dataset folder.

Entry point: `run_publish(study, push_to_hub=None, progress=True) -> PublishReport`.
"""

from publish.errors import NothingRated, PublishError
from publish.run import PublishReport, run_publish

__all__ = ["NothingRated", "PublishError", "PublishReport", "run_publish"]
