# riposte: two commands on a fresh Debian machine.
#   make demo   the seed scenario end to end on a local real kube-apiserver
#   make test   lint, types, generated files, unit and integration tests (real apiserver,
#               real SA tokens)
# Both bootstrap what they need: Debian packages, a venv, the apiserver build (cached).

SHELL      := /bin/bash
PYTHON     ?= python3
VENV       ?= .venv
BIN        := $(VENV)/bin
APT_PKGS   := etcd-server openssl util-linux chromium
# Only `make bench` needs these (wrk: the C load generator, DESIGN.md §10).
BENCH_PKGS := wrk
export PYTHONPATH := $(CURDIR)

.PHONY: all deps bench-deps venv apiserver lint typecheck manifests drift unit integration test demo bench cluster clean

all: test

# $(call apt-install,<packages>): install those of the Debian packages that are missing.
define apt-install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "[deps] installing Debian packages: $$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt-install,$(APT_PKGS))

bench-deps:
	$(call apt-install,$(BENCH_PKGS))

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@echo "[venv] creating $(VENV) and installing pinned requirements"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(BIN)/.installed

apiserver: deps
	@bash hack/build-apiserver.sh >/dev/null

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

# mypy --strict (pyproject.toml) over shared, devcluster, bench, demo and tests; then each
# functions/*/main.py in a run of its own: they are all modules named `main`.
typecheck: venv
	$(BIN)/mypy
	@for f in functions/*/main.py; do \
	  $(BIN)/mypy --no-error-summary "$$f" || { echo "mypy: errors in $$f"; exit 1; }; \
	done; echo "mypy: functions/*/main.py: no issues (one run each)"

# deploy/ and the README's tables, rendered from the specs in functions/*/main.py
# (catalogue/). The rendered files are committed; `drift` fails when one differs.
manifests: venv
	$(BIN)/python -m catalogue.render

drift: venv
	$(BIN)/python -m catalogue.render --check

unit: venv
	$(BIN)/pytest tests/unit

integration: venv apiserver
	$(BIN)/pytest tests/integration

test: venv apiserver lint typecheck drift
	$(BIN)/pytest tests

demo: venv apiserver
	$(BIN)/python -m demo

# Every figure of DESIGN.md §10 with its goal, in one run (a few minutes): prints the
# table and writes bench/results.md. `python -m bench.run --quick` while developing.
bench: venv apiserver bench-deps
	$(BIN)/python -m bench.run

cluster: venv apiserver
	$(BIN)/python -m devcluster

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
