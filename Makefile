# Two set-up commands: `make run` and `make test`. Each creates .venv when missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
EXAMPLE ?= resources/examples/notes_forward_backward.gsg

.PHONY: run test soak lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(PY) -m gradstudio.sysdeps
	$(PY) -m gradstudio $(wildcard $(EXAMPLE))

test: $(VENV)/.installed-test
	$(PY) -m gradstudio.sysdeps
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

# the long runs: GRADSTUDIO_SOAK=1 scales the fuzzers' counts (10,000 file cases in-process and through the CLI)
# and -s prints their figures
soak: $(VENV)/.installed-test
	$(PY) -m gradstudio.sysdeps
	GRADSTUDIO_SOAK=1 QT_QPA_PLATFORM=offscreen $(PY) -m pytest -s -q $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

bench: $(VENV)/.installed
	$(PY) bench/engine.py
	$(PY) bench/canvas.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
