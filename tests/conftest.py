"""Every test directory's fixtures come from one module, ``tests/fixtures.py``: a database per
test (SQLite always, PostgreSQL when configured), the app over it, and the small city."""

from hypothesis import settings

pytest_plugins = ["tests.fixtures"]

# No timing inside the tests (a machine under load is not a broken rule): Hypothesis's deadline
# per example is off everywhere; speed is measured in bench/.
settings.register_profile("shuhui", deadline=None)
settings.load_profile("shuhui")
