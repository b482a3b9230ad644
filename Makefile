# Set-up is part of both entry points: `make benchmark` and `make test` install what is missing first,
# at the versions of requirements/lock.txt (the set the tests last passed with).
# Torch: an installed torch (e.g. a CUDA build) is kept, and the packages it needs are left as they are;
# without one, torch==$(TORCH_VERSION) is installed (the CPU build on machines whose pip is configured for it).
# CONSTRAINTS= (empty) installs the newest allowed versions instead of the lock.
PYTHON ?= python3
TORCH_VERSION ?= 2.13.0
CONSTRAINTS ?= requirements/lock.txt
# one stamp per Python environment and lock choice, so that another PYTHON gets its own set-up
ENV_ID := $(shell $(PYTHON) -c "import hashlib, sys; print(hashlib.sha1((sys.prefix + '$(CONSTRAINTS)').encode()).hexdigest()[:12])")
INSTALLED := .stbench-install-$(ENV_ID)
PIP_CONSTRAINTS := .stbench-constraints-$(ENV_ID).txt
FRESH_VENV ?= .venv-fresh

.PHONY: install benchmark test test-fast regress lock canary clean

$(INSTALLED): pyproject.toml $(wildcard requirements/lock.txt)
ifeq ($(strip $(CONSTRAINTS)),)
	$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install "torch==$(TORCH_VERSION)"
	$(PYTHON) -m pip install -e ".[test]"
else
	$(PYTHON) requirements/lockfile.py constraints $(PIP_CONSTRAINTS)
	$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install -c $(PIP_CONSTRAINTS) "torch==$(TORCH_VERSION)"
	$(PYTHON) -m pip install -c $(PIP_CONSTRAINTS) -e ".[test]"
	rm -f $(PIP_CONSTRAINTS)
endif
	$(PYTHON) requirements/lockfile.py diff
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

# A new virtual environment with the newest versions pyproject.toml allows, written as the lock.
# Then run `make test` and commit requirements/lock.txt when it passes.
lock:
	rm -rf $(FRESH_VENV) && $(PYTHON) -m venv $(FRESH_VENV)
	$(MAKE) install PYTHON=$(FRESH_VENV)/bin/python CONSTRAINTS=
	$(FRESH_VENV)/bin/python requirements/lockfile.py freeze requirements/lock.txt

# The canary: the whole suite in a new virtual environment with the newest allowed versions,
# so that an upstream release that breaks the project is found before users find it.
canary:
	rm -rf $(FRESH_VENV) && $(PYTHON) -m venv $(FRESH_VENV)
	$(MAKE) test PYTHON=$(FRESH_VENV)/bin/python CONSTRAINTS=

clean:
	rm -rf .stbench-install-* .stbench-constraints-* $(FRESH_VENV) runs .pytest_cache
