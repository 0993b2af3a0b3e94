# Two commands do all set-up: `make serve` and `make test` install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := tests/node/node_modules/.installed

.PHONY: install serve test lint sdk-tests image test-image test-base bench bench-flood bench-switch bench-storm bench-webhooks bench-export bench-drivers bench-long-work soak lock clean debian

install: $(STAMP) $(NODE_STAMP) debian

# Reinstalls only when the declared or pinned dependencies change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# The Node SDK's end-to-end test (tests/e2e/test_node_sdk.py): reinstalls only when package*.json change.
$(NODE_STAMP): tests/node/package.json tests/node/package-lock.json
	@command -v npm >/dev/null || { echo "make install: npm (Node.js 20 or later) is needed for the Node SDK test in tests/node" >&2; exit 1; }
	cd tests/node && npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

# Debian's packages the tests drive: headless Chromium for the docs page (tests/e2e/test_docs_browser.py),
# wrk for the flood (tests/e2e/test_operating.py), Kamailio with its HTTP and JSON modules and SIPp for
# the switch (tests/e2e/test_kamailio.py), nginx for the proxy configuration the docs ship
# (tests/e2e/test_nginx.py). Installed when missing, as root; without root, the tests that need a
# missing one are skipped and say why.
DEBIAN_PACKAGES := chromium wrk kamailio kamailio-utils-modules kamailio-extra-modules sip-tester nginx-light
debian:
	$(call install_debian,$(DEBIAN_PACKAGES),the tests that need them will be skipped)

# $(call install_debian,PACKAGES,WHAT FOLLOWS WITHOUT THEM[,STATUS]): Debian's PACKAGES that are missing,
# installed by apt-get when root; otherwise a line that says which, and what follows, and the exit
# STATUS (0 unless given: a target that cannot go on without them gives 1).
define install_debian
@command -v dpkg-query >/dev/null || { echo "make $@: not Debian: install $(1) yourself, or $(2)"; exit $(or $(3),0); }; \
missing=""; for package in $(1); do \
  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "ok installed" || missing="$$missing $$package"; done; \
if [ -z "$$missing" ]; then exit 0; fi; \
if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
else echo "make $@: not root, so Debian's$$missing not installed: $(2)"; exit $(or $(3),0); fi
endef

# make serve PORT=8001 DATABASE=sqlite:///other.db (or PORT and DATABASE in the environment).
PORT ?= 8000
DATABASE ?= sqlite:///ovp.db
serve: $(STAMP)
	$(BIN)/ovp serve --host 127.0.0.1 --port $(PORT) --database $(DATABASE)

# In parallel, then the tests that measure time, alone on the machine.
test: $(STAMP) $(NODE_STAMP) debian
	$(BIN)/pytest -n 2 -m "not alone"
	$(BIN)/pytest -m alone

# ruff, mypy (strict), and import-linter's layers contract (pyproject.toml): the layers run one way.
lint: $(STAMP)
	$(BIN)/ruff check src tests bench image
	$(BIN)/mypy
	$(BIN)/lint-imports

# The official Python SDK's own generated tests (tests/api_resources of PyPI telnyx 4.189.0's sdist) of
# every resource ovp serves, against a real `ovp serve --auth open`: passed/run per resource file, and
# each failure's reason (see tests/sdk_generated). The sdist and a virtualenv of the run's own are made
# once, in .cache/sdk-tests. Not part of make test; CI runs it. Arguments for pytest: make sdk-tests PYTEST_ARGS="-x".
sdk-tests: $(STAMP)
	$(BIN)/python -m tests.sdk_generated $(if $(PYTEST_ARGS),-- $(PYTEST_ARGS))

# ovp's container image (Containerfile, docs/container.md), tagged $(IMAGE_NAME):latest and
# $(IMAGE_NAME):$(VERSION), built by ENGINE (podman, or docker where podman is missing) on BASE. The
# wheels it installs are written first, here, for the base's Python: IMAGE_PYTHON, read from a
# python:X.Y tag, else given (make image BASE=my/base IMAGE_PYTHON=3.11).
ENGINE ?= $(if $(shell command -v podman),podman,docker)
BASE ?= python:3.12-slim
IMAGE_PYTHON ?= $(shell echo '$(BASE)' | sed -n 's/^\(.*\/\)\{0,1\}python:\([0-9]*\.[0-9]*\).*/\2/p')
IMAGE_NAME ?= ovp-server
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
IMAGE_CONTEXT := build/image
image: $(STAMP)
	@test -n "$(IMAGE_PYTHON)" || { echo "make image: give IMAGE_PYTHON=X.Y, the Python of $(BASE)" >&2; exit 2; }
	$(BIN)/python -m image.wheels --python $(IMAGE_PYTHON) $(IMAGE_CONTEXT)
	$(ENGINE) build $(if $(filter podman,$(notdir $(ENGINE))),--format docker) --build-arg BASE=$(BASE) \
	  --build-arg IMAGE_PYTHON=$(IMAGE_PYTHON) --tag $(IMAGE_NAME):latest --tag $(IMAGE_NAME):$(VERSION) \
	  --file Containerfile $(IMAGE_CONTEXT)
	@$(ENGINE) image ls $(IMAGE_NAME):$(VERSION)

# The image as CI checks it (tests/image): built on Debian bookworm's own packages, a base mmdebstrap
# makes here (no image registry needed; made once a machine, then reused: `podman rmi $(TEST_BASE)`
# makes it again), whose python3 is 3.11, and run by podman.
IMAGE_PACKAGES := podman runc mmdebstrap
TEST_BASE := localhost/ovp-test-base:bookworm
TEST_IMAGE := ovp-server-test
test-image: $(STAMP)
	$(call install_debian,$(IMAGE_PACKAGES),make test-image cannot run,1)
	podman image exists $(TEST_BASE) || flock /tmp/ovp-test-base.lock $(MAKE) --no-print-directory test-base
	$(MAKE) --no-print-directory image ENGINE=podman BASE=$(TEST_BASE) IMAGE_PYTHON=3.11 IMAGE_NAME=$(TEST_IMAGE)
	OVP_TEST_IMAGE=$(TEST_IMAGE):$(VERSION) $(BIN)/pytest -m image tests/image

# Docs, manuals and translations left out: 50 MB the image never uses. The image's PATH is the usual
# one (an imported file system has none).
test-base:
	podman image exists $(TEST_BASE) || { \
	  tar=$$(mktemp -d)/base.tar && \
	  mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,ca-certificates \
	    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
	    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
	    --dpkgopt='path-exclude=/usr/share/locale/*' bookworm $$tar && \
	  podman import --change 'ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' $$tar $(TEST_BASE); \
	  status=$$?; rm -r $$(dirname $$tar); exit $$status; }

# PostgreSQL for the benchmark: the harness makes a database of its own there and drops it after.
BENCH_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

# The HTTP servers compared (Granian and uvicorn), the ceilings, then SQLite and PostgreSQL with 1 and
# 2 workers, in one run; every figure is stated as a ratio to figures of the same run (see bench/suite.py).
bench: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	command -v pgbench >/dev/null || (apt-get update -qq && apt-get install -y -qq postgresql-client)
	BENCH_POSTGRES_URL="$(BENCH_POSTGRES_URL)" $(BIN)/python -m bench --suite

# Probes answering under 1,000 connections of wrk (see bench/flood.py); not part of make test.
bench-flood: $(STAMP) debian
	$(BIN)/python -m bench.flood

# asyncpg against psycopg's asynchronous connection on a group commit's statements (see bench/drivers.py).
bench-drivers: $(STAMP)
	BENCH_POSTGRES_URL="$(BENCH_POSTGRES_URL)" $(BIN)/python -m bench.drivers

# GETs beside a whole rate deck's import, on SQLite and PostgreSQL (see bench/long_work.py).
bench-long-work: $(STAMP)
	BENCH_POSTGRES_URL="$(BENCH_POSTGRES_URL)" $(BIN)/python -m bench.long_work

# Calls through Kamailio and ovp at rising rates, on SQLite and PostgreSQL (see bench/switch.py); not part of make test.
bench-switch: $(STAMP) debian
	BENCH_POSTGRES_URL="$(BENCH_POSTGRES_URL)" $(BIN)/python -m bench.switch

# A minute of calls, then a minute of refusals by D2, on SQLite and PostgreSQL (see bench/storm.py).
bench-storm: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	BENCH_POSTGRES_URL="$(BENCH_POSTGRES_URL)" $(BIN)/python -m bench.storm

# Calls with and without webhooks (a live, a dead and a hung receiver), five minutes of memory with the
# dead and hung ones, then a receiver down for five minutes under 50 calls/s, on SQLite and PostgreSQL
# (see bench/webhooks.py).
bench-webhooks: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	BENCH_POSTGRES_URL="$(BENCH_POSTGRES_URL)" $(BIN)/python -m bench.webhooks
	BENCH_POSTGRES_URL="$(BENCH_POSTGRES_URL)" $(BIN)/python -m bench.webhooks --outage 300 --rate 50

# The CSV export of a million call records, with the server's memory watched (see bench/export.py).
bench-export: $(STAMP)
	BENCH_POSTGRES_URL="$(BENCH_POSTGRES_URL)" $(BIN)/python -m bench.export

# Ten minutes of mixed load on each backend, with a fault every minute (see bench/soak.py); not part of make test.
soak: $(STAMP)
	BENCH_POSTGRES_URL="$(BENCH_POSTGRES_URL)" $(BIN)/python -m bench.soak

# Re-pins every dependency to the newest versions pyproject.toml allows.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e '.[test]'
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^ovp' > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache tests/node/node_modules
