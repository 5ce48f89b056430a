# Two commands do everything: `make preview` and `make test`. Both create the virtualenv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.txt | cut -c1-12)
CODE := components stacks tools provider

.PHONY: preview test test-all lint fmt e2e e2e-switchover engine realk8s bench schema validate clean kafka-keys

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

# A stable name for "installed" (the workflow uses it).
$(VENV)/.ready: $(STAMP)
	@touch $@

# actionlint lints the PR workflow; its PyPI wrapper downloads a binary at build time, so it comes from the
# Go module proxy instead (skipped, and the test says so, where Go is missing).
ACTIONLINT := $(VENV)/bin/actionlint
$(ACTIONLINT):
	@if command -v go >/dev/null 2>&1; then GOBIN=$(abspath $(VENV)/bin) go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.7; \
	else echo "go not found: the workflow lint test will be skipped"; fi

## Render the dev stack offline: validated topology, then the full plan under Pulumi mocks into out/dev.
preview: $(STAMP)
	$(PY) -m tools.validate stacks/dev.yaml
	$(PY) -m tools.plan stacks/dev.yaml --out out/dev
	@echo "manifests, flows and diagram: out/dev (plan.md, manifests/, mm2/, tree.txt)"

# The Prometheus project's PromQL grammar (npm), to parse every alert and panel expression.
PROMQL := tests/promql/node_modules/.package-lock.json
$(PROMQL): tests/promql/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/promql --no-audit --no-fund --silent; \
	else echo "npm not found: the PromQL parse test will be skipped"; fi

# `make test` is CI's command: every class of proof, on two xdist workers (one owns the Kafka brokers, one the API
# servers; the unit tests fill both), with the real-engine build started beside them (a cold machine compiles while
# the other tests run; the real-engine tests wait for it). `make test-all` adds what is marked `full`: every stack
# and example on the real engine, sustained load, quotas on real Kafka, the longer drills. docs/testing.md.
PYTEST_RUN := KMR_ENGINE_BUILD=background $(PY) -m pytest -n 2 --dist loadgroup --durations=15

test: $(STAMP) $(ACTIONLINT) $(PROMQL) lint
	$(PY) -m tools.schema --check
	$(PY) -m provider.schema --check
	$(PYTEST_RUN) -m "not full"

test-all: $(STAMP) $(ACTIONLINT) $(PROMQL) lint
	$(PY) -m tools.schema --check
	$(PY) -m provider.schema --check
	$(PYTEST_RUN)

lint: $(STAMP)
	$(PY) -m ruff check $(CODE) tests __main__.py
	$(PY) -m ruff format --check $(CODE) tests __main__.py
	$(PY) -m mypy $(CODE)

fmt: $(STAMP)
	$(PY) -m ruff format $(CODE) tests __main__.py
	$(PY) -m ruff check --fix $(CODE) tests __main__.py

## The real-engine binaries (Pulumi CLI, its kubernetes/tls/random plugins, etcd, kube-apiserver,
## kube-controller-manager), built from the Go module proxy and cached outside the repository, in
## $${KMR_ENGINE_DIR:-~/.cache/kafka-multiregion}. Cold: about 21 minutes alone on 2 cores (26 beside the tests); warm: seconds.
## `make test` and `make test-all` need not run it first: they start it beside the tests (docs/testing.md).
engine:
	@if command -v go >/dev/null 2>&1; then engine/build.sh; \
	else echo "go not found: the real-engine tests will be skipped (or fail, with KMR_REQUIRE_E2E=1)"; fi

## Every stack on the real Pulumi engine against one real API server per region (tests/realk8s).
realk8s: $(STAMP) engine
	KMR_REQUIRE_E2E=1 $(PY) -m pytest tests/realk8s -s
	@cat tests/realk8s/.cache/report.json

e2e: $(STAMP)
	KMR_REQUIRE_E2E=1 $(PY) -m pytest tests/e2e -s
	@cat tests/e2e/.cache/report.json

## Switchover, failover and failback on real Kafka, and the sustained-load figures, alone (make test runs the
## first three, make test-all all of them).
e2e-switchover: $(STAMP)
	KMR_REQUIRE_E2E=1 $(PY) -m pytest tests/e2e/test_switchover.py tests/e2e/test_mirror_load.py -s

bench: $(STAMP)
	$(PY) -m tools.bench

## Regenerate stacks/kafka_config_keys.json from the Kafka jars (the e2e test holds the file equal to them).
kafka-keys: $(STAMP)
	$(PY) -c "from tests.e2e.cluster import fetch_libs; fetch_libs()"
	java -cp 'tests/e2e/.cache/libs/*' tests/kafka_facts/KafkaConfigKeys.java > stacks/kafka_config_keys.json

schema: $(STAMP)
	$(PY) -m tools.schema
	$(PY) -m provider.schema

validate: $(STAMP)
	$(PY) -m tools.validate stacks/*.yaml examples/*.yaml

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache

## MirrorMaker 2 as rendered against a bare consume-produce loop on the same two local brokers (issue 30): a
## benchmark, not a test. Grid and sizes: BENCH_ARGS, e.g. BENCH_ARGS="--partitions 6,24 --tasks 1,4" (docs/testing.md).
.PHONY: bench-replication
bench-replication: $(STAMP)
	$(PY) -m tests.e2e.bench_replication $(BENCH_ARGS)
