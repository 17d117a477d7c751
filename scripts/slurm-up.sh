#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the job-array test (crates/cli/tests/slurm.rs):
# writes a minimal slurm.conf (node "localhost", 4 CPUs so that 4 array tasks run at once),
# starts munged, slurmctld and slurmd without systemd (as CI containers have none), and waits
# until `sinfo` shows the node idle. Needs root and Debian's slurm-wlm and munge packages.
# Running it again when the node is already up does nothing.
set -euo pipefail

conf_dir=/etc/slurm
conf="$conf_dir/slurm.conf"
marker="# written by sesame scripts/slurm-up.sh"

for cmd in munged slurmctld slurmd sinfo sbatch; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
        echo "slurm-up: $cmd not found: install Debian's slurm-wlm and munge (apt-get install slurm-wlm munge)" >&2
        exit 1
    fi
done

if sinfo -h -o '%T' 2>/dev/null | grep -qx 'idle'; then
    echo "slurm-up: the node is already up and idle"
    exit 0
fi

if [ -e "$conf" ] && ! grep -qF "$marker" "$conf"; then
    echo "slurm-up: $conf exists and was not written by this script; leaving it alone" >&2
    exit 1
fi

mkdir -p "$conf_dir" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /var/lib/munge /var/log/munge
cat >"$conf" <<EOF
$marker
ClusterName=sesame
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# The node is declared with 4 CPUs whatever the machine has: the array's 4 tasks run at once.
SlurmdParameters=config_overrides
NodeName=localhost NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

# munge: the key comes with the package; create one if it is missing.
if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
chmod 0700 /etc/munge
chmod 0400 /etc/munge/munge.key
if ! pgrep -x munged >/dev/null; then
    if id munge >/dev/null 2>&1; then
        runuser -u munge -- munged
    else
        munged --force
    fi
fi

pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd -N localhost

for _ in $(seq 1 60); do
    state=$(sinfo -h -n localhost -o '%T' 2>/dev/null || true)
    case "$state" in
    idle) echo "slurm-up: node localhost is idle"; exit 0 ;;
    down* | drain*) scontrol update nodename=localhost state=resume 2>/dev/null || true ;;
    esac
    sleep 1
done
echo "slurm-up: the node did not become idle in 60 s (sinfo says: ${state:-nothing}); see /var/log/slurm/" >&2
exit 1
