# Set-up is part of both entry points: `make benchmark` and `make test` install what is missing first.
# Torch: an installed torch (e.g. a CUDA build) is kept; without one, torch==2.13.0 is installed
# (the CPU build on machines whose pip is configured for it).
PYTHON ?= python3
INSTALLED := .stbench-install
TORCH_VERSION ?= 2.13.0

.PHONY: install benchmark test test-fast regress clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install "torch==$(TORCH_VERSION)"
	$(PYTHON) -m pip install -e ".[test]"
	touch $(INSTALLED)

install: $(INSTALLED)

benchmark: $(INSTALLED)
	$(PYTHON) -m benchmark benchmark

test: $(INSTALLED)
	$(PYTHON) -m pytest

regress: $(INSTALLED)
	$(PYTHON) -m benchmark regress --no-progress

test-fast: $(INSTALLED)
	$(PYTHON) -m pytest -m "not slow"

clean:
	rm -rf $(INSTALLED) runs .pytest_cache
