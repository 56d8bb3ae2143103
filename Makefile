# DocFlow: `make run` starts everything locally, `make test` runs the test suite.
# Both install what is missing first (a virtualenv in .venv with the pinned dependencies).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PACKAGES := -e 'shared[embedded,test]' -e services/auth -e services/gateway -e services/mail \
	-e services/documents -e services/signing

.PHONY: install run test lint typecheck bench clean compose-config

$(STAMP): constraints.txt shared/pyproject.toml services/*/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt $(PACKAGES)
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m docflow_shared.devstack --data-dir .data

lint: install
	$(PY) -m ruff check shared services tests bench

typecheck: install
	$(PY) -m mypy shared/docflow_shared $(filter-out %.egg-info,$(wildcard services/*/docflow_*))

test: install lint typecheck
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) -m bench.run $(BENCH_ARGS)

compose-config:
	docker compose config --quiet

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
