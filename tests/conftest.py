"""Every test directory's fixtures come from one module, ``tests/fixtures.py``: a database per
test (SQLite always, PostgreSQL when configured), the app over it, and the small city."""

pytest_plugins = ["tests.fixtures"]
