# pqparsec: `make run` starts the service on the embedded default, `make test` runs everything.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
CORE_STAMP := $(VENV)/.installed-core
STAMP := $(VENV)/.installed
PROTO_DIR := src/pqparsec/protocol/proto
# The tests' system packages: the real back-ends (SoftHSM2, swtpm, tpm2-tools), what pip needs to
# build tpm2-pytss (the tpm extra) and the PKCS#11 module (gcc, python3-dev), openssl,
# systemd-analyze (and /bin/kill, from procps, which the unit's ExecReload names) for the unit
# tests, and the PKCS#11 applications the module is tested with (OpenSC's pkcs11-tool, GnuTLS's
# p11tool, OpenSSL's pkcs11 engine, OpenSSH).
APT_PACKAGES := openssl swtpm swtpm-tools softhsm2 tpm2-tools libtss2-dev pkg-config gcc \
	python3-dev systemd procps opensc gnutls-bin libengine-pkcs11-openssl openssh-client
APT_PROGRAMS := openssl swtpm softhsm2-util tpm2_pcrextend pkg-config gcc systemd-analyze pkill \
	pkcs11-tool p11tool ssh-keygen ssh-agent

.PHONY: run test lint typecheck pytest coverage proto bench dist deps sysdeps clean fuzz

# `make run`: the core only (wheels, no compiler): the software provider and everything else.
$(CORE_STAMP): pyproject.toml
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e .
	touch $(CORE_STAMP)

# `make test`: every back-end extra and the development tools.
$(STAMP): pyproject.toml
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[all,dev]'
	touch $(STAMP) $(CORE_STAMP)

deps: $(STAMP)

# System packages the tests use; installed only when one is missing (needs root).
sysdeps:
	@missing=0; for p in $(APT_PROGRAMS); do command -v $$p >/dev/null || missing=1; done; \
	pkg-config --exists tss2-esys 2>/dev/null || missing=1; \
	dpkg-query -W -f='$${Status}' libengine-pkcs11-openssl 2>/dev/null | grep -q 'ok installed' || missing=1; \
	if [ $$missing = 1 ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
	  else echo "missing system packages; run as root or: sudo apt-get install $(APT_PACKAGES)"; exit 1; fi; fi

run: $(CORE_STAMP)
	$(VENV)/bin/pqparsec serve

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(VENV)/bin/pytest -q

test: sysdeps $(STAMP) lint typecheck pytest

# Line coverage of the whole suite, the child processes included (`pqparsec serve`, the CLI, the
# SLH-DSA workers): COVERAGE_PROCESS_START makes coverage's .pth hook measure every venv Python the
# tests start; each process writes its own data file ([tool.coverage.run] parallel) into a
# world-writable sticky directory, because some children run as other users. The report is printed
# even when a test fails; the target then fails with pytest's status. Not part of `make test`.
coverage: $(STAMP)
	data=$$(mktemp -d /tmp/pqparsec-coverage-XXXXXX) && chmod 1777 "$$data" || exit 1; rm -f .coverage; \
	COVERAGE_PROCESS_START=$(CURDIR)/pyproject.toml COVERAGE_FILE="$$data/.coverage" \
	  $(VENV)/bin/coverage run -m pytest -q; rc=$$?; \
	$(VENV)/bin/coverage combine -q "$$data" && $(VENV)/bin/coverage report; cov=$$?; \
	rm -rf "$$data"; exit $$(( rc ? rc : cov ))

# `make fuzz`: the fuzz targets (tests/fuzz) for FUZZ_SECONDS in all, and the codec property
# tests with more examples. `make test` runs both briefly (about 20 s).
FUZZ_SECONDS ?= 600
fuzz: $(STAMP)
	PQPARSEC_FUZZ_SECONDS=$(FUZZ_SECONDS) PQPARSEC_CODEC_EXAMPLES=500 \
	  $(VENV)/bin/pytest -q -p no:cacheprovider tests/fuzz tests/protocol/test_codec_properties.py

proto: $(STAMP)
	$(VPY) -m grpc_tools.protoc -I src --python_out=src $(PROTO_DIR)/*.proto

bench: $(STAMP)
	$(VPY) benchmarks/run_all.py
	$(VPY) benchmarks/bench_startup.py

# A wheel and an sdist in dist/ (what `pip install pqparsec` installs).
dist: $(STAMP)
	rm -rf dist
	$(VPY) -m build --outdir dist .

clean:
	rm -rf $(VENV) dist .pqparsec .mypy_cache .ruff_cache .pytest_cache .coverage .coverage.*
