# weaklab developer commands. Each target creates the virtual environment it needs.
PYTHON ?= python3
VENV ?= .venv
BENCH_VENV ?= .venv-bench
PY := $(VENV)/bin/python
BPY := $(BENCH_VENV)/bin/python
PIP_FLAGS ?= --disable-pip-version-check -q

.PHONY: demo test lint docs bench clean

$(VENV)/.base: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("weaklab needs Python >= 3.11, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade pip
	$(PY) -m pip install $(PIP_FLAGS) -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(PY) -m pip install $(PIP_FLAGS) torch==2.13.0
	$(PY) -m pip install $(PIP_FLAGS) -e ".[dev]"
	touch $@

demo: $(VENV)/.base
	$(VENV)/bin/weaklab demo
	@echo "The weaklab command is $(VENV)/bin/weaklab (or run: source $(VENV)/bin/activate); the dashboard needs $(VENV)/bin/pip install -e '.[web]'"

test: $(VENV)/.dev
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -n 2 -q; status=$$?; if [ $$status -eq 5 ]; then echo "no tests collected"; exit 1; fi; exit $$status

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/mypy

$(VENV)/.docs: $(VENV)/.base
	$(PY) -m pip install $(PIP_FLAGS) -e ".[docs]"
	touch $@

docs: $(VENV)/.docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

$(BENCH_VENV)/.ready: pyproject.toml benchmarks/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BPY) -m pip install $(PIP_FLAGS) --upgrade pip
	$(BPY) -m pip install $(PIP_FLAGS) -e ".[bench]" -r benchmarks/requirements.txt
	touch $@

bench: $(BENCH_VENV)/.ready
	$(BPY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) .pytest_cache .mypy_cache .ruff_cache site
