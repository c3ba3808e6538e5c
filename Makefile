# Two commands matter: `make demo` (install, generate the demo study, refresh) and `make test`.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= data/demo
QUESTIONS ?= 1000
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test test-fast test-spark lint docs bench bench-engines argilla-server browser postgres java clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

install: $(STAMP)

demo: install
	$(BIN)/rlhfw demo --dir $(DEMO_DIR) --questions $(QUESTIONS) \
		--warehouse ../warehouse.duckdb --landing ../landing --out ../dataset
	$(BIN)/rlhfw refresh --config $(DEMO_DIR)/study.yml
	$(BIN)/rlhfw report --config $(DEMO_DIR)/study.yml

argilla-server:
	bash scripts/argilla_server.sh install

# The report's browser test drives Debian's Chromium (a tool's own browser download fails here).
browser:
	@test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium) \
		|| { echo "install Debian's chromium (apt-get install chromium) for the report's test"; exit 2; }

# The portability tests start a private PostgreSQL server from Debian's package (tests/postgres.py).
postgres:
	bash scripts/postgres_server.sh install

test: install argilla-server browser postgres
	$(BIN)/pytest -q

# The Spark build of a 100-question study (tests/test_spark.py): pyspark and the system Java.
test-spark: install java
	$(BIN)/pytest -q -m spark

java:
	@command -v java >/dev/null || (apt-get update -q && apt-get install -y -q default-jre-headless) \
		|| { echo "install a Java runtime (apt-get install default-jre-headless) for Spark"; exit 2; }

test-fast: install
	$(BIN)/pytest -q -m "not integration and not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint models tests/dbt macros analyses

docs: install
	$(BIN)/dbt docs generate --static --project-dir . --profiles-dir .

# SCALES=1000 adds the opt-in 1000x study (1,000,000 questions) to the default 1x, 10x, 100x.
bench: install
	$(BIN)/python -m bench.run $(if $(SCALES),--extra $(SCALES))

# A 10x study built on DuckDB, PostgreSQL and Spark in one run (bench/engines.py).
bench-engines: install postgres java
	$(BIN)/python -m bench.run --engines

clean:
	rm -rf data target logs .pytest_cache
