# The two commands: `make demo` runs the platform, `make test` passes the tests.
# Both start from nothing but Python 3.11 and set up what they need.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install -q -c constraints.txt

.PHONY: demo test check fmt install install-test system-deps runtime-deps serve lock clean screenshot

# The demo issues sealed e-licences as PDFs and draws sample documents: it needs the Chinese font.
demo: install runtime-deps
	$(BIN)/shuhui demo --serve

# Spread over every core (pytest-xdist); the tests that share one served demo and Chromium
# stay on one worker (tests/fixtures.py), so --dist loadgroup. TEST_WORKERS=0 runs in-process.
# The 25 slowest steps are printed, to see what to speed up before the suite nears 15 minutes.
TEST_WORKERS ?= auto

test: install-test system-deps
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --durations=25

# Static checks, run by CI beside `make test`.
check: install-test
	$(BIN)/ruff check src tests bench scripts docs
	$(BIN)/ruff format --check src tests bench scripts docs
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: install-test
	$(BIN)/ruff format src tests bench scripts docs
	$(BIN)/ruff check --fix src tests bench scripts docs

serve: install runtime-deps
	$(BIN)/shuhui serve

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(BIN)/python:
	scripts/venv.sh $(PYTHON) $(VENV)

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e '.[test]'
	touch $@ $(VENV)/.installed

system-deps:
	scripts/system-deps.sh test

runtime-deps:
	scripts/system-deps.sh runtime

# Re-pin every dependency after changing a range in pyproject.toml.
lock: | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# The README's picture of the home page, taken from a real server in headless Chromium.
screenshot: install-test system-deps
	$(BIN)/python -m scripts.screenshot
