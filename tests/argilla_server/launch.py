"""Start argilla-server with the in-memory search engine registered.

Run with the argilla-server venv's python (not the project venv):

    .venv-argilla-server/bin/python tests/argilla_server/launch.py --port 6900

Configuration comes from ARGILLA_* environment variables (database, redis, home path) and
ARGILLA_SEARCH_ENGINE must be "inmemory". The engine registers itself on import, which must
happen before the app's lifespan pings the engine, hence this wrapper instead of
``python -m argilla_server start``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6900)
    parser.add_argument("--access-log", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    # argilla_server reads its settings at import time, so set the default before importing.
    os.environ.setdefault("ARGILLA_SEARCH_ENGINE", "inmemory")

    # Import by file location so this works whatever the current directory is.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import inmemory_engine  # noqa: F401  (registers the "inmemory" engine)
    import uvicorn

    uvicorn.run(
        "argilla_server:app",
        host=args.host,
        port=args.port,
        access_log=args.access_log,
        log_level="info",
    )


if __name__ == "__main__":
    main()
