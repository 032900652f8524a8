#!/usr/bin/env bash
# Benchmark gate: counts the instructions `blastradius scan` executes on a fixed generated log,
# under valgrind's callgrind, and fails when the count grows beyond the margin stated in the
# baseline. Instruction counts do not depend on machine load or clock speed, so the gate does
# not flake on a busy shared machine the way wall-clock timings do.
#
# Usage:
#   scripts/bench-gate.sh            check against benches/baseline/instructions.toml
#   scripts/bench-gate.sh --bless    measure and write the baseline (commit it with the change
#                                    that explains the new count)
#
# The count depends on the compiler: when rustc differs from the one that recorded the baseline
# the gate reports the change but does not fail; bless the baseline with the new toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

baseline=benches/baseline/instructions.toml
work=target/bench-gate
mode=check
case "${1:-}" in
--bless) mode=bless ;;
"") ;;
*)
    echo "usage: $0 [--bless]" >&2
    exit 2
    ;;
esac

# A key's value from the baseline (numbers bare, strings without their quotes).
field() {
    [[ -f $baseline ]] || return 0
    sed -n "s/^$1 *= *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" "$baseline" | head -n1
}

size=$(field size)
size=${size:-20M}
seed=$(field seed)
seed=${seed:-1}
margin=$(field margin_percent)
margin=${margin:-3}

if ! command -v valgrind >/dev/null; then
    echo "valgrind not found: installing it (Debian package valgrind)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq valgrind >/dev/null
fi

cargo build --release --locked --bin blastradius
bin=target/release/blastradius
mkdir -p "$work"
input="$work/input-$size-seed$seed.log"
# Regenerated every run (a fraction of a second): the input follows the generator's code, so a
# change to src/synth changes the count too and needs a --bless.
"$bin" --quiet generate --size "$size" --seed "$seed" -o "$input"

# One worker thread and a memory map: the least scheduling and I/O noise.
out="$work/callgrind.out"
rm -f "$out"
BLASTRADIUS_NOW=2026-11-22T12:00:00Z valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$bin" --quiet scan --threads 1 --mmap always -f json -o "$work/report.json" "$input" \
    2>"$work/valgrind.log" || {
    echo "scan under valgrind failed (exit code $?); see $work/valgrind.log" >&2
    exit 1
}
count=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out")
[[ -n $count ]] || {
    echo "no instruction count in $out" >&2
    exit 1
}
rustc_version=$(rustc --version)
valgrind_version=$(valgrind --version)

if [[ $mode == bless ]]; then
    cat >"$baseline" <<TOML
# Instructions executed by \`blastradius scan\` on a generated log, counted by callgrind.
# Checked by scripts/bench-gate.sh (run by scripts/test.sh); update with
# \`scripts/bench-gate.sh --bless\` and commit with the change that explains the new count.
# Command: blastradius generate --size $size --seed $seed -o input.log
#          valgrind --tool=callgrind blastradius scan --threads 1 --mmap always -f json input.log
size = "$size"
seed = $seed
instructions = $count
# Fail when the count grows by more than this.
margin_percent = $margin
rustc = "$rustc_version"
valgrind = "$valgrind_version"
TOML
    echo "bench-gate: blessed $count instructions ($size, seed $seed, $rustc_version)"
    exit 0
fi

base=$(field instructions)
[[ -n $base ]] || {
    echo "no baseline in $baseline: run $0 --bless" >&2
    exit 1
}
base_rustc=$(field rustc)
# Change in hundredths of a percent, as an integer: bash has no floating point.
change=$(((count - base) * 10000 / base))
sign=$([[ $change -ge 0 ]] && echo + || echo -)
abs=${change#-}
printf 'bench-gate: %d instructions, baseline %d (%s%d.%02d%%, margin %d%%)\n' \
    "$count" "$base" "$sign" $((abs / 100)) $((abs % 100)) "$margin"
if [[ $change -gt $((margin * 100)) ]]; then
    if [[ $base_rustc != "$rustc_version" ]]; then
        echo "bench-gate: baseline recorded with $base_rustc, now $rustc_version: not failing;" \
            "bless the baseline with this toolchain (scripts/bench-gate.sh --bless)" >&2
        exit 0
    fi
    echo "bench-gate: FAIL: scan executes more than $margin% more instructions than the baseline" >&2
    echo "  profile: callgrind_annotate $out | head -40" >&2
    echo "  if the cost is intended: scripts/bench-gate.sh --bless, and commit the baseline" >&2
    exit 1
fi
if [[ $change -lt $((-margin * 100)) ]]; then
    echo "bench-gate: faster than the baseline by more than the margin: bless it to lock the gain in"
fi
