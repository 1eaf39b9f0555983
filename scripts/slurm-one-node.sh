#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for tmu's tests of `--executor slurm`.
#
#   scripts/slurm-one-node.sh start DIR   starts munged, slurmctld and slurmd with their state,
#                                         logs and config under DIR; prints `export SLURM_CONF=...`
#   scripts/slurm-one-node.sh stop DIR    stops the daemons it started there, by their pids
#
# Needs Debian's slurmctld, slurmd, slurm-client and munge (`apt-get install`, as root), and root
# (SlurmUser=root). What makes a cluster run in a container: process tracking by the process
# tree (no cgroups), no task plugin, no accounting.
set -euo pipefail

cmd=${1:?usage: slurm-one-node.sh start|stop DIR}
dir=${2:?usage: slurm-one-node.sh start|stop DIR}

stop() {
  for pidfile in "$dir"/slurmd.pid "$dir"/slurmctld.pid "$dir"/munged.pid; do
    if [ -s "$pidfile" ]; then
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$pidfile"
    fi
  done
}

if [ "$cmd" = stop ]; then
  stop
  exit 0
fi
[ "$cmd" = start ] || { echo "unknown command $cmd" >&2; exit 2; }

for exe in munged slurmctld slurmd sbatch; do
  command -v "$exe" >/dev/null || { echo "error: $exe is not installed (apt-get install slurmctld slurmd slurm-client munge)" >&2; exit 1; }
done

mkdir -p "$dir"/state "$dir"/spool "$dir"/munge
chmod 700 "$dir"/munge
host=$(hostname -s)
# Ports of our own, so that a cluster already on this machine is not disturbed.
ctld_port=${TMU_SLURMCTLD_PORT:-16817}
d_port=${TMU_SLURMD_PORT:-16818}

dd if=/dev/urandom of="$dir"/munge/munge.key bs=1024 count=1 status=none
chmod 400 "$dir"/munge/munge.key
munged --force --key-file="$dir"/munge/munge.key --socket="$dir"/munge/munge.socket \
  --pid-file="$dir"/munged.pid --log-file="$dir"/munged.log --seed-file="$dir"/munge/seed

cat > "$dir"/slurm.conf <<CONF
ClusterName=tmutest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerParameters=sched_interval=1
MinJobAge=300
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$dir"/slurm.conf
slurmd -f "$dir"/slurm.conf
# Ready once the node takes jobs.
for _ in $(seq 100); do
  if sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
    echo "export SLURM_CONF=$dir/slurm.conf"
    exit 0
  fi
  sleep 0.2
done
echo "error: the node did not come up; see $dir/slurmctld.log and $dir/slurmd.log" >&2
stop
exit 1
