#!/usr/bin/env bash
# Start a single-node SLURM cluster on this machine (root needed): munged, slurmctld, slurmd.
# Used by tests/test_slurm.py and by developers who want to try `snakemake --profile slurm` locally.
#
#   sudo tools/slurm_up.sh            # idempotent: returns at once when the cluster is already up
#   export SLURM_CONF=/tmp/fairl-slurm/etc/slurm.conf   # printed at the end; needed if /etc/slurm is taken
#   sudo tools/slurm_down.sh          # stops what this script started
#
# Installs slurmctld, slurmd, slurm-client and munge from the distribution (Debian/Ubuntu apt) when
# missing. State, spool, pid and log files live under $FAIRL_SLURM_DIR (default /tmp/fairl-slurm).
# The node advertises one fake GPU (gres.conf: File=/dev/null): the profile's `--gpus=1` requests
# are scheduled as on a real cluster (one GPU job at a time), while the jobs themselves run on the CPU.
# No accounting daemon: `sacct` does not work here, so clients poll with `squeue`; MinJobAge=1800
# keeps finished jobs visible to `squeue` long enough (see tests/slurm/config.yaml).
set -euo pipefail

dir="${FAIRL_SLURM_DIR:-/tmp/fairl-slurm}"
partition="${FAIRL_SLURM_PARTITION:-ci}"
conf="$dir/etc/slurm.conf"

say() { echo "slurm_up: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (munged, slurmctld and slurmd run as system daemons)"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sinfo >/dev/null \
   || ! command -v munged >/dev/null || ! command -v mungekey >/dev/null; then
  command -v apt-get >/dev/null || die "slurmctld/slurmd/munge missing and no apt-get to install them"
  say "installing slurmctld slurmd slurm-client munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null; }
fi

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Clients (sinfo, sbatch, snakemake's plugin, srun inside the jobs) find the configuration through
# SLURM_CONF; /etc/slurm/slurm.conf and /run/slurm/conf/slurm.conf (where Debian's commands and
# slurmd-launched job steps look) are linked to it unless something else already lives there.
export SLURM_CONF="$conf"
link_conf() {  # link_conf TARGET_DIR
  mkdir -p "$1"
  for name in slurm.conf gres.conf; do
    local path="$1/$name"
    if [ -L "$path" ] || [ ! -e "$path" ]; then
      ln -sfn "$dir/etc/$name" "$path"
    elif [ "$name" = slurm.conf ]; then
      say "$path exists and is not ours: leaving it; use SLURM_CONF=$conf"
    fi
  done
}

if alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid" && sinfo -h -N -o %T 2>/dev/null | grep -qx idle; then
  say "already up"
  echo "export SLURM_CONF=$conf"
  exit 0
fi

mkdir -p "$dir/etc" "$dir/state" "$dir/spool" "$dir/log"

# munge: reuse a running munged (e.g. systemd's on a laptop), else start one as user munge.
if ! { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }; then
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge /etc/munge
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  runuser -u munge -- munged --pid-file=/run/munge/munged.pid
  echo /run/munge/munged.pid > "$dir/munged.started"
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
  munge -n | unmunge >/dev/null || die "munged did not start"
fi

node=$(hostname -s)
hardware=$(slurmd -C | head -1)
cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$hardware")
memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hardware")
# Headroom for the system: advertise 90%, unless FAIRL_SLURM_MEMORY_MB says otherwise
# (SlurmdParameters=config_overrides lets the node advertise more than it has; nothing enforces memory).
memory="${FAIRL_SLURM_MEMORY_MB:-$((memory * 9 / 10))}"

cat > "$conf.new" <<EOF
# Written by tools/slurm_up.sh: a single-node test cluster.
ClusterName=fairl
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=1800
SlurmdParameters=config_overrides
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.log
GresTypes=gpu
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory Gres=gpu:1 State=UNKNOWN
PartitionName=$partition Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
mv "$conf.new" "$conf"
echo "NodeName=$node Name=gpu Count=1 File=/dev/null" > "$dir/etc/gres.conf"
link_conf /etc/slurm
link_conf /run/slurm/conf

alive "$dir/slurmctld.pid" || slurmctld -f "$conf"
for _ in $(seq 50); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
alive "$dir/slurmd.pid" || slurmd -f "$conf"

for i in $(seq 120); do
  state=$(sinfo -h -N -o %T 2>/dev/null | head -1 || true)
  case "$state" in
    idle) break ;;
    down*|drain*) scontrol update NodeName="$node" State=RESUME 2>/dev/null || true ;;
  esac
  [ "$i" -eq 120 ] && { tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2; die "node $node not idle after 60 s (state: ${state:-none})"; }
  sleep 0.5
done
say "up: node $node, $cpus CPUs, $memory MB, 1 fake GPU, partition $partition; logs in $dir/log"
echo "export SLURM_CONF=$conf"
