#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo fuzz, libFuzzer) of every target in fuzz/fuzz_targets/.
#
#   scripts/fuzz.sh [SECONDS]     each target for SECONDS (default 20), one after another
#   FUZZ_TARGETS="plist keybag" scripts/fuzz.sh 60     only some targets
#   FUZZ_TIMEOUT=10     seconds one input may take before it counts as a hang (default 10)
#
# Installs cargo-fuzz when it is missing, builds all targets (fuzz/Cargo.lock, --locked), runs
# each from its committed corpus fuzz/corpus/<target>/ and prints one line per target. New
# inputs go to fuzz/work/<target>/ (kept between local runs, ignored by git), crashes to
# fuzz/artifacts/<target>/. Exits non-zero when any target crashed, hung or ran out of memory:
# turn the artifact into a regression test in crates/<crate>/tests/fuzz_regressions.rs (replay
# it with `RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none <target> <artifact>`), then fix
# the code.
#
# Works with the stable toolchain: cargo fuzz passes nightly-only flags, which stable rustc
# accepts under RUSTC_BOOTSTRAP=1. No sanitizer: the code is safe Rust, so what is looked for
# is panics, aborts, stack overflows, hangs (-timeout) and memory blow-ups (-rss_limit_mb).
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${1:-20}"
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
    echo "usage: scripts/fuzz.sh [SECONDS]" >&2
    exit 2
fi
export RUSTC_BOOTSTRAP=1
# cargo fuzz looks for its binaries under fuzz/target; a redirected target dir would hide them.
unset CARGO_TARGET_DIR
CARGO_FUZZ_VERSION=0.13.2

start=$SECONDS
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi
# libfuzzer-sys compiles libFuzzer, which is C++.
if ! command -v c++ >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq g++ >/dev/null
    else
        echo "fuzz: needs a C++ compiler (c++) to build libFuzzer; install g++" >&2
        exit 2
    fi
fi
installed=$SECONDS

echo "== building fuzz targets"
if ! cargo fetch --locked --manifest-path fuzz/Cargo.toml; then
    echo "fuzz: fuzz/Cargo.lock is out of date (a crate's dependencies changed?):" \
        "run 'cargo fetch --manifest-path fuzz/Cargo.toml' and commit fuzz/Cargo.lock" >&2
    exit 2
fi
cargo fuzz build --sanitizer none
built=$SECONDS

targets="${FUZZ_TARGETS:-$(cargo fuzz list)}"
echo "== fuzzing each target for ${secs}s"
failed=()
for t in $targets; do
    work="fuzz/work/$t"
    log="fuzz/work/$t.log"
    mkdir -p "$work" "fuzz/artifacts/$t"
    # The committed corpus is read only: libFuzzer writes what it finds into the first folder.
    status=0
    cargo fuzz run --sanitizer none "$t" "$work" "fuzz/corpus/$t" -- \
        -max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    # A crash on a corpus input leaves no stats: no match must not stop the script (set -e).
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
    cov=$( (grep -o 'cov: [0-9]*' "$log" || true) | tail -1 | cut -d' ' -f2)
    corpus=$(find "$work" -type f | wc -l)
    if [ "$status" = 0 ]; then
        printf '%-12s ok     %10s runs  cov %-6s %6s inputs in fuzz/work/%s\n' "$t" "${runs:-?}" "${cov:-?}" \
            "$corpus" "$t"
    else
        what=$(grep -m1 -oE 'panicked at [^ ]+|has overflowed its stack|ERROR: libFuzzer: [a-z -]+' \
            "$log" || true)
        artifact=$(grep -m1 -o 'Test unit written to [^ ]*' "$log" | sed 's/Test unit written to //' || true)
        printf '%-12s FAILED (%s) %s; log %s\n' "$t" "${what:-exit $status}" "${artifact:-}" "$log"
        grep -m1 -A3 'panicked at' "$log" || tail -n 20 "$log"
        failed+=("$t")
    fi
done

echo "== fuzz: $((installed - start))s install, $((built - installed))s build," \
    "$((SECONDS - built))s fuzzing"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}" >&2
    exit 1
fi
