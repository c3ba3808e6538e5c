"""Real argilla-server 2.8.0 (own venv, SQLite, redis, in-memory search) for integration tests.

See fixture.py for ``ArgillaServer``, the REST helpers and ``seed_demo``.
"""
