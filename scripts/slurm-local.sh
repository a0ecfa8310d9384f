#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the tests of virtuoso sweep
# --slurm (tests/cli/test_sweep.c) and .ci/run: slurmctld, slurmd and munge
# from Debian's packages (scripts/deps.sh installs them), configured for
# localhost. Needs root.
#
#   scripts/slurm-local.sh start    start what is not running; wait until the node is idle
#   scripts/slurm-local.sh stop     stop what start started, remove its configuration
#   scripts/slurm-local.sh status   say whether jobs can be submitted
#
# It writes /etc/slurm/slurm.conf only when there is none (a machine with its
# own cluster keeps it), and records what it started in /run/virtuoso-slurm.
set -euo pipefail

state=/run/virtuoso-slurm
conf=/etc/slurm/slurm.conf

ready() {
	sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'
}

start() {
	command -v slurmctld >/dev/null && command -v munged >/dev/null || {
		echo "slurm-local: slurmctld or munged is missing (scripts/deps.sh installs them)" >&2
		exit 1
	}
	mkdir -p "$state"/spool "$state"/save "$state"/log /etc/slurm
	if ! pgrep -x munged >/dev/null; then
		[ -s /etc/munge/munge.key ] || {
			mkdir -p /etc/munge
			dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
		}
		chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
		mkdir -p /run/munge /var/lib/munge /var/log/munge
		chown munge:munge /run/munge /var/lib/munge /var/log/munge
		runuser -u munge -- munged
		touch "$state/munged"
	fi
	if [ ! -e "$conf" ]; then
		host=$(hostname -s)
		mem=$(awk '/MemTotal/ { print int($2 / 1024) - 512 }' /proc/meminfo)
		cat > "$conf" <<EOF
# written by virtuoso's scripts/slurm-local.sh: a one-node cluster for its tests
ClusterName=virtuoso
SlurmctldHost=$host
AuthType=auth/munge
SlurmUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
StateSaveLocation=$state/save
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
		touch "$state/conf"
	fi
	pgrep -x slurmctld >/dev/null || { slurmctld; touch "$state/slurmctld"; }
	pgrep -x slurmd >/dev/null || { slurmd; touch "$state/slurmd"; }
	for _ in $(seq 60); do
		ready && exit 0
		sleep 0.5
	done
	echo "slurm-local: the node did not come up (see $state/log)" >&2
	exit 1
}

stop() {
	[ -d "$state" ] || exit 0
	for d in slurmd slurmctld munged; do
		if [ -e "$state/$d" ]; then
			pkill -x "$d" || true
			rm -f "$state/$d"
		fi
	done
	if [ -e "$state/conf" ]; then
		rm -f "$conf" "$state/conf"
	fi
	rm -rf "$state"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) ready && echo "slurm-local: ready" || { echo "slurm-local: not running"; exit 1; } ;;
*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
