# pqparsec: `make run` starts the service on the embedded default, `make test` runs everything.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROTO_DIR := src/pqparsec/protocol/proto
APT_PACKAGES := openssl swtpm swtpm-tools libtss2-dev pkg-config softhsm2 tpm2-tools
APT_PROGRAMS := openssl swtpm softhsm2-util tpm2_pcrextend

.PHONY: run test lint typecheck pytest proto bench deps sysdeps conformance clean

$(STAMP): pyproject.toml
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

deps: $(STAMP)

# System packages the tests use; installed only when a program is missing (needs root).
sysdeps:
	@missing=0; for p in $(APT_PROGRAMS); do command -v $$p >/dev/null || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
	  else echo "missing system packages; run as root or: sudo apt-get install $(APT_PACKAGES)"; exit 1; fi; fi

run: $(STAMP)
	$(VENV)/bin/pqparsec serve

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(VENV)/bin/pytest -q

test: sysdeps $(STAMP) lint typecheck pytest

conformance: $(STAMP)
	$(VPY) ../shared/conformance/check_core.py --python $(VPY)

proto: $(STAMP)
	$(VPY) -m grpc_tools.protoc -I src --python_out=src $(PROTO_DIR)/*.proto

bench: $(STAMP)
	$(VPY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pqparsec .mypy_cache .ruff_cache .pytest_cache
