#!/usr/bin/env bash
# The checks that need an NVIDIA GPU and many cores, as one run of at most DEADLINE seconds
# (default 560), on binaries built beforehand (the machine that runs this needs no Rust, only
# the NVIDIA driver and NVRTC):
#
#   cargo build --release -p sesame && cargo build --release -p sesame-gpu -p sesame-kernels --examples
#   scripts/device-check.sh [OUTDIR]
#
# Each step runs under its own time limit, cut to what is left of the deadline (a step that
# would start after it is skipped), most important first. Each one's output goes to
# OUTDIR/NAME.txt (default $OUT, else a new temporary folder), its last lines and exit status to
# OUTDIR/summary.txt. The script exits 1 if any step failed or was skipped.
#   machine        lscpu, nvidia-smi
#   gpu-bench      every GPU's self-check against the CPU reference, both key schemes, and the
#                  SHA-256 stage at 1/4 to 4 times the preferred batch (is the GPU full?); then
#                  again with CUDA blocks of 128 and 256 threads
#   recover-*      sesame recover finds the fixture's password (test123) in a wordlist, on the
#                  GPU alone and on every device at once, for both key schemes
#   bench-gpu      sesame bench on the GPUs alone (JSON)
#   cpu-scaling    kernel_rate on 1 thread against 4, 8 and every core
#   bench-all      sesame bench on every device, each measured in turn (JSON)
set -uo pipefail
out="${1:-${OUT:-$(mktemp -d)}}"
mkdir -p "$out" && out=$(cd "$out" && pwd) || { echo "cannot write to the output folder $out" >&2; exit 2; }
deadline=${DEADLINE:-560}
cd "$(dirname "$0")/.."
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
failed=0

# check NAME SECONDS COMMAND...: runs COMMAND with a time limit, its output in OUTDIR/NAME.txt.
check() {
    local name=$1 limit=$2
    shift 2
    local left=$((deadline - SECONDS))
    if [ "$left" -le 5 ]; then
        echo "-- $name: skipped, the ${deadline} s deadline is reached" | tee -a "$out/summary.txt"
        failed=1
        return
    fi
    [ "$limit" -le "$left" ] || limit=$left
    echo "== $name (at most $limit s): $*" | tee -a "$out/summary.txt"
    local t0=$SECONDS
    timeout -k 10 "$limit" "$@" >"$out/$name.txt" 2>&1
    local rc=$?
    tail -n 20 "$out/$name.txt" | tee -a "$out/summary.txt"
    echo "-- $name: exit $rc after $((SECONDS - t0)) s" | tee -a "$out/summary.txt"
    [ "$rc" -eq 0 ] || failed=1
}

check machine 10 bash -c 'lscpu; nproc; nvidia-smi || echo "no nvidia-smi"'
check gpu-bench 120 "$gpu_bench" 3 0.25 0.5 1 2 4
# CUDA blocks of 128 and 256 threads instead of 64, at the preferred batch.
for block in 128 256; do
    check "gpu-bench-block-$block" 45 env SESAME_CUDA_BLOCK=$block "$gpu_bench" 2 1
done

# The password last in each list. On the iOS 10.2+ scheme a GPU tries some hundreds a second
# when full, and 20,000 passwords fill only a small part of a large GPU: that search's time is
# about one pass of 10,000,000 iterations, not a rate. The older scheme runs 2,000,000.
wordlist() { { seq -f "wrong-%.0f" 1 "$1"; echo test123; } >"$work/words-$1.txt"; }
for scheme in ios10_2:20000 ios9:2000000; do
    name=${scheme%:*}
    count=${scheme#*:}
    wordlist "$count"
    check "hash-$name" 20 "$sesame" hash "$fixtures/manifest-$name-test123.plist"
    grep -m 1 '^\$itunes_backup\$' "$out/hash-$name.txt" >"$work/$name.hash"
    for device in gpu all; do
        # Each run its own potfile, or the second would be answered by the first's.
        check "recover-$name-$device" 90 "$sesame" recover "$work/$name.hash" \
            -w "$work/words-$count.txt" --device "$device" --fresh --json \
            --potfile "$work/$name-$device.potfile"
    done
done

check bench-gpu 60 "$sesame" bench --device gpu --seconds 3 --json --verbose
check cpu-scaling 60 bash -c "
    for t in 4 8 \$(nproc); do
        $kernel_rate --threads \$t --sample 100000 --tsv
    done"
check bench-all 90 "$sesame" bench --device all --seconds 3 --json
echo "all output in $out"
exit "$failed"
