# Two set-up commands: `make run` and `make test`. Each creates .venv when missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
EXAMPLE ?= resources/examples/notes_forward_backward.gsg

.PHONY: run test fuzz lint bench clean

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

# The differential fuzzer, longer than in `make test`: FUZZ_COUNT programs from seed FUZZ_START.
FUZZ_COUNT ?= 5000
FUZZ_START ?= 0
fuzz: $(VENV)/.installed-test
	GRADSTUDIO_FUZZ_COUNT=$(FUZZ_COUNT) GRADSTUDIO_FUZZ_START=$(FUZZ_START) \
		$(PY) -m pytest -q -s tests/engine/test_fuzz_vs_torch.py

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

bench: $(VENV)/.installed
	$(PY) bench/engine.py
	$(PY) bench/canvas.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
