#!/usr/bin/env bash
# examples/slurm/heat.sbatch on a one-node SLURM cluster started here (as
# root, Debian's slurm-wlm and munge): the job is sent SIGUSR1 as
# `--signal=USR1@120` would before its time limit, every rank saves at one
# step and exits 138, the script requeues the job, the requeued job resumes
# from the last commit, and its result must be the uninterrupted one.
#
#   bash scripts/slurm-trial.sh      # ~2 minutes; stops the daemons it started
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

if ! command -v slurmctld >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
cargo build -q -p checkpoint-examples --features mpi --example heat
program=$repo/target/debug/examples/heat

work=$(mktemp -d)
host=$(hostname)
mkdir -p "$work/ctld" "$work/d" /run/munge
chown munge:munge /run/munge
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=trial
SlurmctldHost=$host
SlurmUser=root
StateSaveLocation=$work/ctld
SlurmdSpoolDir=$work/d
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
SlurmdParameters=config_overrides
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
NodeName=$host CPUs=4 State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
pkill -x slurmd || true
pkill -x slurmctld || true
sleep 1
slurmctld
slurmd
trap 'pkill -x slurmd || true; pkill -x slurmctld || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 0.2; done

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
expected=$(CHECKPOINT_DIR="$work/reference" mpirun --oversubscribe -np 4 "$program" 1500 2>/dev/null | tail -1)

cd "$work"
job=$(SCRATCH=$work PROGRAM=$program STEPS=1500 DELAY_MS=4 \
    sbatch --parsable --export=ALL "$repo/examples/slurm/heat.sbatch")
log=$work/heat-$job.log
until grep -q "committed in" "$log" 2>/dev/null; do sleep 0.2; done
scancel --signal=USR1 "$job"
until grep -q "requeueing" "$log" 2>/dev/null; do sleep 0.2; done
# A requeued job waits two minutes before it may start again.
sleep 1
scontrol update jobid="$job" StartTime=now
while squeue -h -j "$job" 2>/dev/null | grep -q .; do sleep 0.5; done
sleep 1
result=$(grep -E '^[0-9]' "$log" | tail -1)
grep -E 'stopped heat::heat on SIGUSR1|requeueing|resumed heat::heat|^finished' "$log"
if [[ "$result" != "$expected" ]]; then
    echo "slurm-trial: the requeued job printed '$result', the uninterrupted one '$expected'" >&2
    exit 1
fi
echo "slurm-trial: requeued job resumed and printed the uninterrupted result: $result"
