#!/usr/bin/env bash
# detection.sh: how long vigil takes to see each kind of failure, against
# its theoretical bound. Real PostgreSQL, simulated nodes, vigil, all on
# 127.0.0.1; probes and beats every 200 ms, fall 3, 5 beats may be missed.
# Usage: tests/bench/detection.sh [RUNS]   (default 5; prints a table)
# Not a test: numbers go to docs/BENCHMARKS.md.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/integration/lib.sh"

RUNS=${1:-5}
TIM=(--interval-ms 200 --failover-heartbeats 5 --startup-ms 300 --db-loss-standby-ms 0)
pg_start >/dev/null || { echo "no PostgreSQL" >&2; exit 1; }

# now in ms, and the ms of the first vigil log line matching ERE after START
now_ms() { local t=$EPOCHREALTIME; echo $((${t/./} / 1000)); }
log_ms() { # ERE START_MS -> ms of the first matching line at or after START
	local line ts
	while IFS= read -r line; do
		ts=${line%%Z *}
		ts=$(date -d "${ts}Z" +%s%3N 2>/dev/null) || continue
		[ "$ts" -ge "$2" ] && { echo "$ts"; return 0; }
	done < <(grep -E -- "$1" "$T/vigil.log")
	return 1
}

setup() {
	vigil_stop
	for n in "${!SIM_PID[@]}"; do kill -CONT "${SIM_PID[$n]}" 2>/dev/null; sim_stop "$n"; done
	psql_q "SET client_min_messages = warning" "TRUNCATE vigil_heartbeat" "DROP TABLE IF EXISTS vigil_sim_role" >/dev/null
	sim_start a running "${TIM[@]}" --priority 1 >/dev/null
	sim_start b standby "${TIM[@]}" --priority 2 >/dev/null
	cat >"$T/v.conf" <<CONF
vigil = { spool_dir = "$T/spool"; };
listen = ( { address = "127.0.0.1:$(free_port)"; } );
cluster = { name = "c"; nodes = (
  { name = "a"; address = "127.0.0.1:$(sim_port a)"; priority = 1; },
  { name = "b"; address = "127.0.0.1:$(sim_port b)"; priority = 2; } ); };
health = { probe = { interval_ms = 200; timeout_ms = 200; rise = 2; fall = 3;
  standby = "\"state\"\\\\s*:\\\\s*\"STANDBY\""; };
  heartbeat = { conninfo = "$PG_CONNINFO"; interval_ms = 200; failover_heartbeats = 5; }; };
CONF
	: >"$T/vigil.log"
	vigil_start "$T/v.conf"
	wait_for 10 grep -q "node a: unknown -> running" "$T/vigil.log"
	sleep 0.5
}

measure() { # NAME FAULT-COMMAND ERE
	local name=$1 fault=$2 ere=$3 i t0 t1 out=()
	for i in $(seq 1 "$RUNS"); do
		setup
		t0=$(now_ms)
		eval "$fault"
		wait_for 15 grep -qE -- "$ere" "$T/vigil.log"
		t1=$(log_ms "$ere" "$t0") && out+=($((t1 - t0)))
	done
	printf '%s\n' "${out[@]}" | sort -n >"$T/$name.ms"
	echo "$name ${out[*]}" >&2
	awk -v name="$name" '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2;
		printf "%s|%d|%d|%d|%d\n", name, m, a[1], a[NR], NR}' "$T/$name.ms"
}

{
measure "REST answers 500 -> unreachable" "simctl a http500 on >/dev/null" "node a: running -> unreachable"
measure "process frozen (SIGSTOP) -> unreachable" 'kill -STOP ${SIM_PID[a]}' "node a: running -> unreachable"
measure "heartbeats stop, REST up -> hung" "simctl a heartbeat stop >/dev/null" "node a: running -> hung"
measure "node shut down -> shut_down" "simctl a shutdown >/dev/null" "node a: .* -> shut_down"
measure "node shut down -> failover" "simctl a shutdown >/dev/null" "event failover: cluster=c from=a to=b"
} >"$T/results"
vigil_stop
for n in "${!SIM_PID[@]}"; do kill -CONT "${SIM_PID[$n]}" 2>/dev/null; done

echo "| failure | median ms | min | max | runs | bound |"
echo "|---|---|---|---|---|---|"
while IFS='|' read -r name med min max n; do
	case $name in
	REST*) bound="interval × fall = 600 (+ up to 200 until the next probe)" ;;
	process*) bound="timeout × fall = 600 (+ up to 200 until the next probe)" ;;
	heartbeats*) bound="interval × failover_heartbeats + poll = 1000 + 200" ;;
	"node shut down -> shut_down") bound="1000 + 200 (the beat) — the probe fails first" ;;
	*) bound="1000 + 200 for the beat, then the standby promotes itself (sim: 1000) and rise × interval = 400" ;;
	esac
	echo "| $name | $med | $min | $max | $n | $bound |"
done <"$T/results"
t_done >/dev/null
