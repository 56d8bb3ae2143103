# DocFlow: `make run` starts everything locally, `make test` runs the test suite.
# Both install what is missing first (a virtualenv in .venv with the pinned dependencies).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# dev (docflow_dev: make run, the local servers, the test fixtures) is never in a production image
PACKAGES := -e shared -e services/auth -e services/gateway -e services/mail \
	-e services/documents -e services/signing -e services/routes -e services/audit -e services/notify -e dev

.PHONY: install run test lint typecheck bench bench-tools gost-tools clean compose-config backup restore

$(STAMP): constraints.txt shared/pyproject.toml services/*/pyproject.toml dev/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt $(PACKAGES)
	@touch $(STAMP)

install: $(STAMP)

# Replicas per service behind the gateway (README, "make run"): make run REPLICAS=documents=2,mail=3
REPLICAS ?=

run: install gost-tools
	$(PY) -m docflow_dev.supervisor --data-dir .data --replicas "$(REPLICAS)"

# A backup of everything (README, "Backup and restore"): BACKUP_ARGS=--include-keys adds the data
# dir's keys, sealed with BACKUP_PASSPHRASE (asked for when unset).
BACKUP_DIR ?= backups

backup: install
	$(PY) -m docflow_shared.backup create --dir $(BACKUP_DIR) $(BACKUP_ARGS)

restore: install
	@test -n "$(DIR)" || { echo "usage: make restore DIR=backups (the newest backup in it) or DIR=backups/docflow-<time>"; exit 2; }
	$(PY) -m docflow_shared.backup restore $(DIR) $(RESTORE_ARGS)

lint: install
	$(PY) -m ruff check shared dev services tests bench

typecheck: install
	$(PY) -m mypy shared/docflow_shared dev/docflow_dev $(filter-out %.egg-info,$(wildcard services/*/docflow_*))

test: install lint typecheck
	$(PY) -m pytest $(PYTEST_ARGS)

# The HTTP benchmarks drive load with wrk; like `install` for Python packages, this brings it in
# when it is missing (Debian/Ubuntu packages; sudo when not root).
WRK ?= wrk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

bench-tools:
	@command -v $(WRK) >/dev/null 2>&1 || { echo "installing wrk for the benchmarks ..."; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk; }

# GOST signatures need OpenSSL's GOST provider (Streebog for hashlib, in signing and for the
# digests of stored files in documents) and its engine (the Russian GOST interop tests); without
# it the signing service answers GOST signatures with 503 gost-unavailable, so `make run` goes on
# when it cannot be installed (docs/architecture.md, "GOST signatures").
GOST_PACKAGE := libengine-gost-openssl

gost-tools:
	@dpkg -s $(GOST_PACKAGE) >/dev/null 2>&1 || { echo "installing $(GOST_PACKAGE) for GOST signatures ..."; \
		{ $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(GOST_PACKAGE); } \
		|| echo "could not install $(GOST_PACKAGE) (run: apt-get install $(GOST_PACKAGE)); GOST signatures will be refused" >&2; }

bench: install bench-tools
	$(PY) -m bench.run $(BENCH_ARGS)

compose-config:
	docker compose config --quiet

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
