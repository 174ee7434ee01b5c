#!/usr/bin/env bash
# probe-cost.sh: the CPU vigil spends probing N nodes every 200 ms (REST
# probes, no heartbeat database), measured from /proc over a window.
# Usage: tests/bench/probe-cost.sh [NODES] [SECONDS]   (default 100 20)
# Not a test: numbers go to docs/BENCHMARKS.md.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/integration/lib.sh"

NODES=${1:-100}
SECS=${2:-20}
nodes=""
for i in $(seq 1 "$NODES"); do
	sim_start "n$i" running --quiet >/dev/null || exit 1
	nodes+="${nodes:+,}{ name = \"n$i\"; address = \"127.0.0.1:$(sim_port "n$i")\"; }"
done
cat >"$T/v.conf" <<CONF
vigil = { spool_dir = "$T/spool"; };
listen = ( { address = "127.0.0.1:$(free_port)"; } );
cluster = { name = "c"; active_nodes = 0; nodes = ( $nodes ); };
health = { probe = { interval_ms = 200; timeout_ms = 200; }; };
CONF
vigil_start "$T/v.conf"
wait_for 10 grep -q "routing table" "$T/vigil.log"
sleep 2
ticks() { awk '{print $14 + $15}' "/proc/$VIGIL_PID/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks)
sleep "$SECS"
t1=$(ticks)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$VIGIL_PID/status")
running=$(grep -c -- '-> running' "$T/vigil.log")
awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$SECS" -v n="$NODES" -v rss="$rss" -v r="$running" 'BEGIN {
	printf "nodes=%d probes/s=%d cpu=%.1f%% of one core rss=%d KiB nodes running=%d\n",
		n, n * 5, 100 * d / hz / s, rss, r }'
vigil_stop
t_done >/dev/null
