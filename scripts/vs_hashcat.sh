#!/usr/bin/env bash
# Whole process against whole process: `sesame recover` and `hashcat -a 0` on the same real hash
# line (from ../shared/fixtures) and the same N wrong guesses, one after the other on this machine.
# Prints each one's wall time and guesses per second, and the ratio. Both run every guess (none is
# right), so both do the same work.
#
#   scripts/vs_hashcat.sh [N [SCHEME]]
#     N       guesses (default 64)
#     SCHEME  10.2 (default): the iOS 10.2+ line, DPIC 10,000,000, against hashcat -m 14800
#             9: the line of a backup from before iOS 10.2 (PBKDF2-SHA1, 10,000 iterations),
#                against hashcat -m 14700; it takes about 2,000 times as many guesses per second
#
# Running it twice, with N and 2N, and taking the difference leaves out both tools' start-up.
#
# Needs hashcat with an OpenCL CPU driver (Debian: apt-get install hashcat pocl-opencl-icd).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-64}"
scheme="${2:-10.2}"
case "$scheme" in
    10.2) fixture=../shared/fixtures/keybags/manifest-ios10_2-test123.plist; mode=14800
          what="a DPIC 10,000,000 line" ;;
    9) fixture=../shared/fixtures/keybags/manifest-ios9-test123.plist; mode=14700
       what="a line from before iOS 10.2 (PBKDF2-SHA1, 10,000 iterations)" ;;
    *) echo "SCHEME is 10.2 or 9, not $scheme" >&2; exit 2 ;;
esac
case "$n" in
    ''|*[!0-9]*) echo "N is a number of guesses, not $n" >&2; exit 2 ;;
esac
[ -f "$fixture" ] || { echo "missing $fixture" >&2; exit 2; }
command -v hashcat >/dev/null || { echo "hashcat is not installed" >&2; exit 2; }

cargo build --release -q -p sesame
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
line=$(target/release/sesame hash "$fixture" 2>/dev/null)
echo "$line" > "$work/hash"
for i in $(seq 1 "$n"); do echo "wrong-guess-$i"; done > "$work/words"

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) logical CPUs"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$n guesses on $what"

# One-time costs are left out of both: hashcat compiles its OpenCL kernels on first use
# (cached afterwards), Sesame measures its kernels on first use (cached in its data folder).
echo "warm-up" > "$work/one"
SESAME_HOME="$work/home" target/release/sesame recover "$work/hash" -w "$work/one" \
    --device cpu --fresh >/dev/null 2>&1 || true
hashcat -m "$mode" -a 0 -D 1 --force --potfile-disable --quiet -w 3 \
    --session "sesame-warm-$$" "$work/hash" "$work/one" >/dev/null 2>&1 || true

start=$(date +%s.%N)
SESAME_HOME="$work/home" target/release/sesame recover "$work/hash" -w "$work/words" \
    --device cpu --fresh >"$work/sesame.out" 2>&1 || true
end=$(date +%s.%N)
s=$(echo "$end - $start" | bc -l)
kernel=$(sed -n 's/^sesame: kernel \([^:]*\):.*/\1/p' "$work/sesame.out" | head -1)
printf 'sesame (kernel %s): %.1f s, %.3f guesses/s\n' "$kernel" "$s" "$(echo "$n / $s" | bc -l)"

start=$(date +%s.%N)
hashcat -m "$mode" -a 0 -D 1 --force --potfile-disable --quiet -w 3 \
    --session "sesame-vs-$$" "$work/hash" "$work/words" >"$work/hashcat.out" 2>&1 || true
grep -iE "error|warn" "$work/hashcat.out" | head -3 || true
end=$(date +%s.%N)
h=$(echo "$end - $start" | bc -l)
printf 'hashcat %s: %.1f s, %.3f guesses/s\n' "$(hashcat --version)" "$h" "$(echo "$n / $h" | bc -l)"
printf 'sesame / hashcat: %.2fx (%s threads)\n' "$(echo "$h / $s" | bc -l)" "$(nproc)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
