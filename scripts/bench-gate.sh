#!/usr/bin/env bash
# Benchmark gate: counts the instructions `blastradius scan` executes on fixed generated logs,
# under valgrind's callgrind, and fails when a count grows beyond the margin stated in its
# baseline. Instruction counts do not depend on machine load or clock speed, so the gate does
# not flake on a busy shared machine the way wall-clock timings do.
#
# Two shapes of log, one baseline each:
#   default  benches/baseline/instructions.toml       `generate`'s default small cluster
#   busy     benches/baseline/instructions-busy.toml  issue 18's busy cluster (20,000 tokens,
#            2,000 tenants, 16,000 secret paths, 1,000 requests/s); `generate_args` in the file
#
# Usage:
#   scripts/bench-gate.sh [--bless] [SHAPE...]   check (or measure and write) the baselines of
#                                                 the shapes named, default: both
#
# The count depends on the compiler: when rustc differs from the one that recorded the baseline
# the gate reports the change but does not fail; bless the baseline with the new toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

work=target/bench-gate
mode=check
shapes=()
for arg in "$@"; do
    case "$arg" in
    --bless) mode=bless ;;
    default | busy) shapes+=("$arg") ;;
    *)
        echo "usage: $0 [--bless] [default|busy]..." >&2
        exit 2
        ;;
    esac
done
[[ ${#shapes[@]} -gt 0 ]] || shapes=(default busy)

baseline_of() {
    case "$1" in
    default) echo benches/baseline/instructions.toml ;;
    busy) echo benches/baseline/instructions-busy.toml ;;
    esac
}
# The generator's shape options when a baseline does not name them.
default_args_of() {
    case "$1" in
    default) echo "" ;;
    busy) echo "--tokens 20000 --tenants 2000 --secrets 16000 --rate 1000/s" ;;
    esac
}

# A key's value from the baseline (numbers bare, strings without their quotes).
field() {
    [[ -f $baseline ]] || return 0
    sed -n "s/^$1 *= *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" "$baseline" | head -n1
}

if ! command -v valgrind >/dev/null; then
    echo "valgrind not found: installing it (Debian package valgrind)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq valgrind >/dev/null
fi

cargo build --release --locked --bin blastradius
bin=target/release/blastradius

gate() {
    shape=$1
    baseline=$(baseline_of "$shape")
    size=$(field size)
    size=${size:-20M}
    seed=$(field seed)
    seed=${seed:-1}
    margin=$(field margin_percent)
    margin=${margin:-3}

    generate_args=$(field generate_args)
    [[ -f $baseline ]] || generate_args=$(default_args_of "$shape")
    mkdir -p "$work"
    input="$work/input-$shape-$size-seed$seed.log"
    # Regenerated every run (a fraction of a second): the input follows the generator's code, so a
    # change to src/synth changes the count too and needs a --bless.
    # shellcheck disable=SC2086 # the shape options are words
    "$bin" --quiet generate --size "$size" --seed "$seed" $generate_args -o "$input"

    # One worker thread and a memory map: the least scheduling and I/O noise.
    out="$work/callgrind-$shape.out"
    rm -f "$out"
    BLASTRADIUS_NOW=2026-11-22T12:00:00Z valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$bin" --quiet scan --threads 1 --mmap always -f json -o "$work/report-$shape.json" "$input" \
        2>"$work/valgrind-$shape.log" || {
        echo "scan under valgrind failed (exit code $?); see $work/valgrind-$shape.log" >&2
        return 1
    }
    count=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out")
    [[ -n $count ]] || {
        echo "no instruction count in $out" >&2
        return 1
    }
    rustc_version=$(rustc --version)
    valgrind_version=$(valgrind --version)

    if [[ $mode == bless ]]; then
        cat >"$baseline" <<TOML
# Instructions executed by \`blastradius scan\` on a generated log, counted by callgrind.
# Checked by scripts/bench-gate.sh (run by scripts/test.sh); update with
# \`scripts/bench-gate.sh --bless\` and commit with the change that explains the new count.
# Shape: $shape
# Command: blastradius generate --size $size --seed $seed $generate_args -o input.log
#          valgrind --tool=callgrind blastradius scan --threads 1 --mmap always -f json input.log
size = "$size"
seed = $seed
generate_args = "$generate_args"
instructions = $count
# Fail when the count grows by more than this.
margin_percent = $margin
rustc = "$rustc_version"
valgrind = "$valgrind_version"
TOML
        echo "bench-gate: blessed $count instructions ($shape: $size, seed $seed, $rustc_version)"
        return 0
    fi

    base=$(field instructions)
    [[ -n $base ]] || {
        echo "no baseline in $baseline: run $0 --bless $shape" >&2
        return 1
    }
    base_rustc=$(field rustc)
    # Change in hundredths of a percent, as an integer: bash has no floating point.
    change=$(((count - base) * 10000 / base))
    sign=$([[ $change -ge 0 ]] && echo + || echo -)
    abs=${change#-}
    printf 'bench-gate (%s): %d instructions, baseline %d (%s%d.%02d%%, margin %d%%)\n' \
        "$shape" "$count" "$base" "$sign" $((abs / 100)) $((abs % 100)) "$margin"
    if [[ $change -gt $((margin * 100)) ]]; then
        if [[ $base_rustc != "$rustc_version" ]]; then
            echo "bench-gate: baseline recorded with $base_rustc, now $rustc_version: not failing;" \
                "bless the baseline with this toolchain (scripts/bench-gate.sh --bless)" >&2
            return 0
        fi
        echo "bench-gate ($shape): FAIL: scan executes more than $margin% more instructions than the baseline" >&2
        echo "  profile: callgrind_annotate $out | head -40" >&2
        echo "  if the cost is intended: scripts/bench-gate.sh --bless $shape, and commit the baseline" >&2
        return 1
    fi
    if [[ $change -lt $((-margin * 100)) ]]; then
        echo "bench-gate ($shape): faster than the baseline by more than the margin: bless it to lock the gain in"
    fi
}

status=0
for shape in "${shapes[@]}"; do
    gate "$shape" || status=1
done
exit $status
