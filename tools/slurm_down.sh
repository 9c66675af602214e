#!/usr/bin/env bash
# Stop the single-node SLURM cluster that tools/slurm_up.sh started, by pid file:
# slurmd, slurmctld, and munged when slurm_up.sh started it (a munged it found running is left alone).
# Idempotent. Removes the configuration links slurm_up.sh made; the state directory stays (logs)
# unless --purge is given.
set -uo pipefail

dir="${FAIRL_SLURM_DIR:-/tmp/fairl-slurm}"

stop() {  # stop PIDFILE NAME
  [ -f "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "slurm_down: stopped $2 ($pid)" >&2
  fi
  rm -f "$1"
}

stop "$dir/slurmd.pid" slurmd
stop "$dir/slurmctld.pid" slurmctld
if [ -f "$dir/munged.started" ]; then
  stop "$(cat "$dir/munged.started")" munged
  rm -f "$dir/munged.started"
fi

# The configuration links slurm_up.sh made to this cluster would point at a cluster that is gone.
for path in /etc/slurm/slurm.conf /etc/slurm/gres.conf /run/slurm/conf/slurm.conf /run/slurm/conf/gres.conf; do
  if [ -L "$path" ] && [ "$(readlink "$path")" = "$dir/etc/$(basename "$path")" ]; then rm -f "$path"; fi
done
[ "${1:-}" = "--purge" ] && rm -rf "$dir"
exit 0
