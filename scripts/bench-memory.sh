#!/usr/bin/env bash
# Memory benchmark (issue 18, item 4): not a timed test, a measurement to read.
#
# Two shapes of log, each at two sizes, so that the per-value cost is a slope (the difference of
# two peaks over the difference of distinct values) and the fixed cost (buffers, threads, the
# binary) drops out:
#   adversarial  one distinct secret path, token and accessor per request/response pair (KV v2
#                reads), one pair in 1,000 from the pivot address 203.0.113.66;
#   paths        the same with 1,000 tokens taking turns: only the paths are new, so the
#                difference between the two slopes is the cost of a distinct token;
#   busy         `blastradius generate` as a busy cluster with 100,000 tokens in use at once
#                (logins keep minting more: ~181,000 distinct accessors at 1 GiB);
#   target       (TARGET_SIZE set, e.g. 10G) the issue's shape measured directly, not
#                extrapolated: that many bytes of the busy cluster with 100,000 distinct tokens
#                over the whole log (`--tokens 50000 --distinct-tokens 100000`: half the tokens
#                are issued by logins in the log).
# For each log, `scan` and `blast --ip 203.0.113.66` run under `/usr/bin/time -v` (max RSS,
# which counts the pages of a memory-mapped input) while a loop samples the process's RssAnon
# (anonymous memory only) every 20 ms.
#
# Usage: scripts/bench-memory.sh [BIN] [WORKDIR]
#   BIN      the binary (default target/release/blastradius)
#   WORKDIR  where the logs go (default /dev/shm/bench-memory; ~3 GB with the default sizes)
# Sizes: ADV_PAIRS="50000 100000" BUSY_SIZES="512M 1G" THREADS=2 TARGET_SIZE= (environment;
# TARGET_SIZE=10G needs 10 GB of room in WORKDIR).
set -euo pipefail

bin=${1:-target/release/blastradius}
work=${2:-/dev/shm/bench-memory}
adv_pairs=${ADV_PAIRS:-"50000 100000"}
busy_sizes=${BUSY_SIZES:-"512M 1G"}
threads=${THREADS:-2}
target_size=${TARGET_SIZE:-}
pivot=203.0.113.66
mkdir -p "$work"

# The adversarial log: every pair a new token, accessor and path.
# adversarial N FILE [TOKENS]: TOKENS distinct tokens taking turns (default: one per pair).
adversarial() {
    python3 - "$1" "$2" "${3:-$1}" <<'PY'
import sys
n, out, tokens = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with open(out, "w") as f:
    for i in range(n):
        tok = f"hmac-sha256:{i % tokens:064x}"
        acc = f"hmac-sha256:{i % tokens + (1 << 60):064x}"
        path = f"kv/data/tenant-{i % 50:02d}/app-{i:08d}/db"
        j = i % tokens
        addr = "203.0.113.66" if i % 1000 == 0 else f"10.{(j >> 16) & 255}.{(j >> 8) & 255}.{j & 255}"
        s, ns = divmod(i, 1000)
        t = f"2026-11-02T{s // 3600 % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{ns:03d}000Z"
        auth = (f'"auth":{{"client_token":"{tok}","accessor":"{acc}","display_name":"approle",'
                f'"policies":["default","tenant-{i % 50:02d}"],"token_policies":["default","tenant-{i % 50:02d}"],'
                f'"metadata":{{"role_name":"ci"}},"entity_id":"e-{i % tokens:032x}","token_type":"service",'
                f'"token_ttl":2764800,"token_issue_time":"2026-11-02T00:00:00Z"}}')
        req = (f'"request":{{"id":"r-{i:032x}","operation":"read","mount_point":"kv/","mount_type":"kv",'
               f'"mount_class":"secret","client_token":"{tok}","client_token_accessor":"{acc}",'
               f'"namespace":{{"id":"root"}},"path":"{path}","remote_address":"{addr}","remote_port":50426}}')
        f.write(f'{{"time":"{t}","type":"request",{auth},{req}}}\n')
        f.write(f'{{"time":"{t}","type":"response",{auth},{req},"response":{{"mount_point":"kv/",'
                f'"mount_type":"kv","data":{{"data":{{"password":"hmac-sha256:{i:064x}"}},'
                f'"metadata":{{"version":1}}}}}}}}\n')
PY
}

# Runs "$@"; prints "<peak RssAnon KiB> <max RSS KiB> <wall s>".
measure() {
    local tf
    tf=$(mktemp)
    /usr/bin/time -v -o "$tf" "$@" >/dev/null 2>&1 &
    local tpid=$! child="" peak=0 kb
    while kill -0 "$tpid" 2>/dev/null; do
        [[ -z $child ]] && child=$(pgrep -P "$tpid" | head -1 || true)
        if [[ -n $child ]] && kb=$(awk '/^RssAnon:/ {print $2}' "/proc/$child/status" 2>/dev/null); then
            [[ -n $kb ]] && ((kb > peak)) && peak=$kb
        fi
        sleep 0.02
    done
    wait "$tpid" || true
    local maxrss wall
    maxrss=$(awk -F': ' '/Maximum resident/ {print $2}' "$tf")
    wall=$(awk -F': ' '/Elapsed \(wall/ {print $2}' "$tf")
    rm -f "$tf"
    echo "$peak $maxrss $wall"
}

# Prints one row per command for a log with `distinct` paths and `tokens` tokens.
run_log() {
    local log=$1 label=$2
    for cmd in scan blast; do
        local args=(scan --threads "$threads" --format json -o /dev/null "$log")
        [[ $cmd == blast ]] && args=(blast --threads "$threads" --ip "$pivot" --format json -o /dev/null "$log")
        read -r anon rss wall < <(measure "$bin" "${args[@]}")
        printf '%-28s %-6s anon %8d KiB  maxrss %8d KiB  wall %s\n' "$label" "$cmd" "$anon" "$rss" "$wall"
        echo "$label $cmd $anon $rss" >>"$work/rows"
    done
}

: >"$work/rows"
echo "# $("$bin" --version), $threads threads, load $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $adv_pairs; do
    log="$work/adversarial-$n.log"
    [[ -s $log ]] || adversarial "$n" "$log"
    run_log "$log" "adversarial-$n"
    log="$work/paths-$n.log"
    [[ -s $log ]] || adversarial "$n" "$log" 1000
    run_log "$log" "paths-$n"
done
for size in $busy_sizes; do
    log="$work/busy-$size.log"
    [[ -s $log ]] || "$bin" generate -q --size "$size" --seed 1 --tokens 100000 --tenants 2000 \
        --secrets 16000 --rate 1000/s -o "$log"
    run_log "$log" "busy-$size"
done
if [[ -n $target_size ]]; then
    log="$work/target-$target_size.log"
    [[ -s $log ]] || "$bin" generate -q --size "$target_size" --seed 1 --tokens 50000 \
        --distinct-tokens 100000 --tenants 2000 --secrets 16000 --rate 1000/s -o "$log"
    run_log "$log" "target-$target_size"
fi

# Slopes: adversarial per distinct path (each pair is also a distinct token and accessor, so
# the per-path figure is the cost of one path plus one token); busy per byte of log.
python3 - "$work/rows" "$adv_pairs" "$busy_sizes" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    label, cmd, anon, rss = line.split()
    rows[(label, cmd)] = int(anon) * 1024
pairs = [int(x) for x in sys.argv[2].split()]
sizes = sys.argv[3].split()
def bytes_of(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(float(s[:-1]) * mult[s[-1]]) if s[-1] in mult else int(s)
for cmd in ("scan", "blast"):
    if len(pairs) >= 2:
        a, b = pairs[0], pairs[-1]
        d = rows[(f"adversarial-{b}", cmd)] - rows[(f"adversarial-{a}", cmd)]
        both = d / (b - a)
        d = rows[(f"paths-{b}", cmd)] - rows[(f"paths-{a}", cmd)]
        path = d / (b - a)
        print(f"{cmd}: {path:.0f} B of RssAnon per distinct path (paths log), {both:.0f} B per distinct "
              f"path+token+accessor (adversarial log), so {both - path:.0f} B per distinct token")
    if len(sizes) >= 2:
        a, b = sizes[0], sizes[-1]
        lo, hi = rows[(f"busy-{a}", cmd)], rows[(f"busy-{b}", cmd)]
        slope = (hi - lo) / (bytes_of(b) - bytes_of(a))
        at10 = hi + slope * (10e9 - bytes_of(b))
        print(f"busy {cmd}: {slope * 1e9 / 2**20:.1f} MiB per GB; extrapolated to 10 GB: {at10 / 2**20:.0f} MiB RssAnon")
    for (label, c), anon in rows.items():
        if label.startswith("target-") and c == cmd:
            print(f"{label} {cmd}: {anon / 2**20:.0f} MiB peak RssAnon, measured (target 300 MiB)")
PY
