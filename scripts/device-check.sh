#!/usr/bin/env bash
# The checks that need an NVIDIA GPU and many cores, as one run of a few minutes, on binaries
# built beforehand (the machine that runs this needs no Rust, only the NVIDIA driver and NVRTC):
#
#   cargo build --release -p sesame && cargo build --release -p sesame-gpu -p sesame-kernels --examples
#   scripts/device-check.sh [OUTDIR]
#
# It runs, each under its own time limit, and writes each one's output to OUTDIR (default $OUT,
# else a new temporary folder), with the last lines of each in OUTDIR/summary.txt:
#   1. the machine: lscpu, nvidia-smi;
#   2. gpu_bench: every GPU's self-check against the CPU reference, both key schemes, and the
#      SHA-256 stage at 1/4 to 4 times the preferred batch (is the GPU full?);
#   3. sesame bench --device gpu, then --device all (CPU and GPU together), JSON;
#   4. CPU scaling: kernel_rate on 1 thread against 4, 8 and every core;
#   5. end to end: sesame recover finds the fixture's password (test123) in a wordlist, on the
#      GPU alone and on the GPU and CPU together, for both key schemes.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-${OUT:-$(mktemp -d)}}"
mkdir -p "$out"
sesame=target/release/sesame
gpu_bench=target/release/examples/gpu_bench
kernel_rate=target/release/examples/kernel_rate
# The shared fixtures beside the repository, or inside it where a copy put them there.
fixtures=../shared/fixtures/keybags
[ -d "$fixtures" ] || fixtures=shared/fixtures/keybags
for f in "$sesame" "$gpu_bench" "$kernel_rate" "$fixtures/manifest-ios10_2-test123.plist" \
    "$fixtures/manifest-ios9-test123.plist"; do
    [ -e "$f" ] || { echo "missing $f (see the build commands at the top of this script)" >&2; exit 2; }
done
# Wordlists, potfiles and sessions go to a scratch folder: only the logs are kept.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SESAME_HOME="$work/home"

# check NAME SECONDS COMMAND...: runs COMMAND with a time limit, its output in OUTDIR/NAME.txt.
check() {
    local name=$1 limit=$2
    shift 2
    echo "== $name: $*" | tee -a "$out/summary.txt"
    local t0=$SECONDS
    timeout "$limit" "$@" >"$out/$name.txt" 2>&1
    local rc=$?
    tail -n 20 "$out/$name.txt" | tee -a "$out/summary.txt"
    echo "-- $name: exit $rc after $((SECONDS - t0)) s" | tee -a "$out/summary.txt"
}

check machine 20 bash -c 'lscpu; nproc; nvidia-smi || echo "no nvidia-smi"'
check gpu-bench 150 "$gpu_bench" 3 0.25 0.5 1 2 4
check bench-gpu 90 "$sesame" bench --device gpu --seconds 3 --json --verbose
check bench-all 120 "$sesame" bench --device all --seconds 3 --json
check cpu-scaling 120 bash -c "
    for t in 4 8 \$(nproc); do
        $kernel_rate --threads \$t --sample 100000 --tsv
    done"

# Wordlists with the password far enough in that every device gets batches first: on the iOS
# 10.2+ scheme a GPU tries some hundreds a second, on the older one some hundred thousand.
wordlist() { { seq -f "wrong-%.0f" 1 "$1"; echo test123; } >"$work/words-$1.txt"; echo "$work/words-$1.txt"; }
for scheme in ios10_2:20000 ios9:2000000; do
    name=${scheme%:*}
    words=$(wordlist "${scheme#*:}")
    "$sesame" hash "$fixtures/manifest-$name-test123.plist" >"$work/$name.hash" 2>/dev/null
    for device in gpu all; do
        # Each run its own potfile, or the second would be answered by the first's.
        check "recover-$name-$device" 150 "$sesame" recover "$work/$name.hash" -w "$words" \
            --device "$device" --fresh --json --potfile "$work/$name-$device.potfile"
    done
done
echo "all output in $out"
