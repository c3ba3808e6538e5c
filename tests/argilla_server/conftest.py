"""One real argilla-server per test session, seeded once, shared by every integration test."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from .fixture import ArgillaServer, install_problem, seed_demo


@pytest.fixture(scope="session")
def argilla_server() -> Iterator[ArgillaServer]:
    problem = install_problem()
    if problem is not None:
        # Fail, not skip: a missing install must not turn the integration suite green.
        pytest.fail(problem, pytrace=False)
    with ArgillaServer() as server:
        print(f"argilla-server cold start: {server.startup_seconds:.1f}s")
        yield server


@pytest.fixture(scope="session")
def seeded(argilla_server: ArgillaServer) -> dict:
    started = time.monotonic()
    seed = seed_demo(argilla_server)
    print(f"seed_demo: {time.monotonic() - started:.1f}s")
    return seed
