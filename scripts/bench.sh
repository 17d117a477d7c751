#!/usr/bin/env bash
# Guesses per second of `sesame bench` (the whole recovery engine's kernels, both key schemes)
# against OpenSSL's PBKDF2-HMAC-SHA256 (python3 hashlib) and, when installed, hashcat -m 14800,
# all in the same run on this machine. Prints the ratios.
#
# Env: SECONDS_PER (seconds each sesame measurement times, default 2), NO_HASHCAT=1 to skip
#      hashcat, HASHCAT_TIMEOUT (seconds, default 600).
set -euo pipefail
cd "$(dirname "$0")/.."

cores=$(nproc)
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $cores logical CPUs"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

cargo build --release -q -p sesame
echo
echo "== sesame bench (target/release/sesame)"
json=$(target/release/sesame bench --json --seconds "${SECONDS_PER:-2}")
echo "  $json"
read -r kernel threads s10c s10t s9c s9t <<<"$(python3 -c '
import json, sys
j = json.loads(sys.argv[1])
print(j["kernel"], j["threads"], j["scheme_10_2"]["per_core"], j["scheme_10_2"]["total"],
      j["scheme_9"]["per_core"], j["scheme_9"]["total"])' "$json")"
printf '  kernel %s, %s threads\n' "$kernel" "$threads"
printf '  iOS 10.2+: %.3f g/s per core, %.3f g/s whole machine\n' "$s10c" "$s10t"
printf '  old:       %.0f g/s per core, %.0f g/s whole machine\n' "$s9c" "$s9t"

echo
echo "== OpenSSL PBKDF2 via python3 hashlib ($(python3 -c 'import ssl; print(ssl.OPENSSL_VERSION)')), one core"
read -r o10 o9 <<<"$(python3 - <<'PY'
import hashlib, time
# 1,000,000 SHA-256 iterations scaled x10, plus the full 10,000-iteration SHA-1 stage.
t = time.perf_counter()
k = hashlib.pbkdf2_hmac("sha256", b"password", b"\x07" * 20, 1_000_000, 32)
t256 = (time.perf_counter() - t) * 10
t = time.perf_counter()
for _ in range(20):
    hashlib.pbkdf2_hmac("sha1", k, b"\x07" * 20, 10_000, 32)
t1 = (time.perf_counter() - t) / 20
print(f"{1 / (t256 + t1):.5f} {1 / t1:.2f}")
PY
)"
printf '  iOS 10.2+: %.3f g/s per core\n' "$o10"
printf '  old:       %.0f g/s per core\n' "$o9"
printf '  ratio sesame/OpenSSL per core: iOS 10.2+ %.2fx, old %.2fx\n' \
  "$(echo "$s10c / $o10" | bc -l)" "$(echo "$s9c / $o9" | bc -l)"

echo
if [ -n "${NO_HASHCAT:-}" ]; then
  echo "== hashcat: skipped (NO_HASHCAT set)"
elif command -v hashcat >/dev/null; then
  echo "== $(hashcat --version) -b -m 14800 -D 1 (CPU through OpenCL), whole machine"
  hc=$(timeout "${HASHCAT_TIMEOUT:-600}" hashcat -b -m 14800 -D 1 --force 2>&1 || true)
  echo "$hc" | grep -E '^\* Device|Speed' | sed 's/^/  /' || true
  speed=$(echo "$hc" | sed -n 's/^Speed[^:]*: *\([0-9.]*\) H\/s.*/\1/p' | head -1)
  if [ -n "$speed" ]; then
    printf '  ratio sesame/hashcat whole machine: %.2fx\n' "$(echo "$s10t / $speed" | bc -l)"
  else
    echo "  hashcat gave no speed figure (timed out or failed)"
  fi
else
  echo "== hashcat: not installed (apt-get install hashcat pocl-opencl-icd)"
fi
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
