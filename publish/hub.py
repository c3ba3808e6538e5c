"""Optional upload of the written dataset folder to the Hugging Face Hub."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from publish.errors import PublishError

if TYPE_CHECKING:
    import huggingface_hub

TOKEN_ENV = "HF_TOKEN"
_REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*")
# Files in the folder that stay local (the in-progress file only if a run died mid-swap).
LOCAL_ONLY = [".rlhfw-publish.json", ".rlhfw-publish-in-progress"]
# Data files carry a content hash in their name: remove the previous release's files.
REPLACED = ["pairs/*", "conversational/*", "ratings/*", "responses/*"]


def HfApi(token: str) -> huggingface_hub.HfApi:
    """The hub client, imported only for a push: importing huggingface_hub takes about 0.5 s."""
    from huggingface_hub import HfApi as api

    return api(token=token)


def check_push(repo_id: str) -> str:
    """Validate the target before any work is done; returns the token."""
    if not _REPO_ID.fullmatch(repo_id):
        raise PublishError(f"push target {repo_id!r} is not a hub dataset id like `org/name`")
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise PublishError(f"{TOKEN_ENV} is not set: export a Hugging Face write token to push")
    return token


def push(folder: Path, repo_id: str, token: str, message: str) -> str:
    """Upload `folder` as dataset repo `repo_id` (created private if new). Returns its URL."""
    api = HfApi(token=token)
    try:
        # New repos start private: human-feedback data gets published on purpose, not by default.
        api.create_repo(repo_id, repo_type="dataset", private=True, exist_ok=True)
        info = api.upload_folder(
            folder_path=str(folder),
            repo_id=repo_id,
            repo_type="dataset",
            commit_message=message,
            ignore_patterns=LOCAL_ONLY,
            delete_patterns=REPLACED,
        )
    except Exception as exc:  # network, auth, offline mode: all end the same way for the user
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise PublishError(f"push to {repo_id} failed: {first}") from None
    return str(getattr(info, "commit_url", "") or f"https://huggingface.co/datasets/{repo_id}")
