#!/usr/bin/env bash
# PBKDF2 rates for iOS backup keys, per core, in one run on this machine:
#   1. OpenSSL's PBKDF2 (through python3's hashlib), one process per core;
#   2. every sesame-kernels kernel this CPU supports (examples/kernel_rate), 1 thread and all;
#   3. hashcat -m 14800 (iTunes backup >= 10.0) benchmark mode, if hashcat is installed.
# Prints per-core guesses/s for the 10,000,000-iteration scheme (iOS 10.2+) and the old one.
# Env: SAMPLE (SHA-256 iterations timed and scaled, default 200000), HASHCAT_TIMEOUT (s, 600),
#      NO_HASHCAT=1 to skip hashcat.
set -euo pipefail
cd "$(dirname "$0")/.."

cores=$(nproc)
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $cores cores"
flags=$(grep -m1 '^flags' /proc/cpuinfo)
for f in sha_ni avx2 avx512f; do
  case " $flags " in *" $f "*) echo "  $f: yes" ;; *) echo "  $f: no" ;; esac
done

cargo build --release -q -p sesame-kernels --example kernel_rate
# Other work on the machine depresses every figure below: record how busy it was.
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "== OpenSSL via python3 hashlib ($(python3 -c 'import ssl; print(ssl.OPENSSL_VERSION)'))"
openssl_out=$(python3 - "$cores" <<'PY'
import hashlib, sys, time
from multiprocessing import Pool

def one(_):
    # 1,000,000 SHA-256 iterations scaled x10, plus the full 10,000-iteration SHA-1 stage.
    t = time.perf_counter()
    k = hashlib.pbkdf2_hmac("sha256", b"password", b"\x07" * 20, 1_000_000, 32)
    t256 = (time.perf_counter() - t) * 10
    t = time.perf_counter()
    for _ in range(20):
        hashlib.pbkdf2_hmac("sha1", k, b"\x07" * 20, 10_000, 32)
    t1 = (time.perf_counter() - t) / 20
    return 1 / (t256 + t1), 1 / t1

cores = int(sys.argv[1])
new1, old1 = one(0)
with Pool(cores) as p:
    res = p.map(one, range(cores))
newall = sum(r[0] for r in res)
oldall = sum(r[1] for r in res)
print(f"{new1:.4f} {newall:.4f} {old1:.1f} {oldall:.1f}")
PY
)
read -r o_new1 o_newall o_old1 o_oldall <<<"$openssl_out"
printf '  10M scheme: %.3f g/s 1 core, %.3f g/s all %d cores (%.3f per core)\n' \
  "$o_new1" "$o_newall" "$cores" "$(echo "$o_newall / $cores" | bc -l)"
printf '  old scheme: %.0f g/s 1 core, %.0f g/s all cores (%.0f per core)\n' \
  "$o_old1" "$o_oldall" "$(echo "$o_oldall / $cores" | bc -l)"

echo
echo "== sesame-kernels (target/release/examples/kernel_rate, sample ${SAMPLE:-200000})"
rates=$(target/release/examples/kernel_rate --tsv --sample "${SAMPLE:-200000}")
while IFS=$'\t' read -r k lanes n1 na old1 olda; do
  printf '  %-9s lanes %2d  10M: %.3f g/s 1 thread, %.3f g/s all (%.3f per core, %.1fx OpenSSL)\n' \
    "$k" "$lanes" "$n1" "$na" "$(echo "$na / $cores" | bc -l)" "$(echo "$na / $o_newall" | bc -l)"
  printf '  %-9s           old: %.0f g/s 1 thread, %.0f g/s all (%.0f per core, %.1fx OpenSSL)\n' \
    "" "$old1" "$olda" "$(echo "$olda / $cores" | bc -l)" "$(echo "$olda / $o_oldall" | bc -l)"
done <<<"$rates"

echo
if [ -n "${NO_HASHCAT:-}" ]; then
  echo "== hashcat: skipped (NO_HASHCAT set)"
elif command -v hashcat >/dev/null; then
  echo "== $(hashcat --version) -b -m 14800 on the CPU (OpenCL device type 1)"
  # hashcat's 14800 benchmark runs 9,999,999 SHA-256 iterations per guess, the real cost.
  hc=$(timeout "${HASHCAT_TIMEOUT:-600}" hashcat -b -m 14800 -D 1 --force 2>&1 || true)
  echo "$hc" | grep -E '^\* Device|Speed' | sed 's/^/  /'
  speed=$(echo "$hc" | sed -n 's/^Speed[^:]*: *\([0-9.]*\) H\/s.*/\1/p' | head -1)
  if [ -n "$speed" ]; then
    best=$(echo "$rates" | head -1 | cut -f4)
    printf '  hashcat: %s H/s all cores (%.3f per core); sesame %s: %.1fx hashcat\n' \
      "$speed" "$(echo "$speed / $cores" | bc -l)" "$(echo "$rates" | head -1 | cut -f1)" \
      "$(echo "$best / $speed" | bc -l)"
  else
    echo "  hashcat gave no speed figure (timed out or failed)"
  fi
else
  echo "== hashcat: not installed (apt-get install hashcat pocl-opencl-icd)"
fi
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
