# Two set-up commands: `make run` and `make test`. Each creates .venv when missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
EXAMPLE ?= resources/examples/notes_forward_backward.gsg

.PHONY: run test soak fuzz lint bench clean dist dist-check icons

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

# PyInstaller one-folder bundle in dist/gradstudio/ (PyInstaller goes into the venv; torch is left out)
DIST_PY ?= $(PY)

dist: $(VENV)/.installed
	$(DIST_PY) -m pip install --quiet "pyinstaller>=6,<7"
	$(DIST_PY) -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
		packaging/pyinstaller/gradstudio.spec

dist-check: dist
	env -u PYTHONPATH QT_QPA_PLATFORM=offscreen dist/gradstudio/gradstudio --smoke
	dist/gradstudio/gradstudio --version
	du -sh dist/gradstudio

icons: $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(PY) tools/make_icons.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
