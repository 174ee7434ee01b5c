#!/usr/bin/env bash
# hook-faults.sh: restart hooks that go wrong while clients use the VIP: one
# that hangs (stopped at timeout_ms), one that exits 1, one that floods its
# output until it is stopped. Each is counted as a failed attempt
# (restart_failed, /metrics), and vigil's main loop never waits for a
# hook: the load flows, the admin API answers and the other nodes stay
# judged while the hook runs; the flood's output costs vigil no memory.
. "$top_srcdir/tests/faults/lib.sh"

fault_pg
# a serves throughout; b, c and d are shut down one after the other.
fault_sims a:running:1 b:running:2 c:running:3 d:running:4
fault_receiver

# The hook does what $T/mode-NODE says.
cat >"$T/hook" <<SH
#!/bin/sh
mode=\$(cat "$T/mode-\$VIGIL_NODE")
echo "start \$VIGIL_NODE \$mode" >>"$T/hook.log"
case \$mode in
hang) exec sleep 60 ;;
fail) echo "cannot reach the node's control API" >&2; exit 1 ;;
flood) exec yes "flooding the log with the same line over and over again" ;;
esac
SH
chmod +x "$T/hook"
echo hang >"$T/mode-b"
echo fail >"$T/mode-c"
echo flood >"$T/mode-d"
# as root (CI) the hook runs as root: vigil wants that said
root_ok=
[ "$(id -u)" = 0 ] && root_ok="allow_root = true;"
F_TOP="hooks = { restart = { command = [\"$T/hook\"]; timeout_ms = 4000; $root_ok
  max_attempts = 1; backoff_ms = 200; wait_running_ms = 2000; }; };"
F_NOTIFY="flap_changes = 0;"
fault_conf
fault_vigil
t_wait 10 "four nodes active" active_is '["a","b","c","d"]'

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$VIGIL_PID/status"; }
hook_state() { status "$1" restart.state; }
got() { [ "$(received "$1" "$2")" -ge "$3" ]; }
metric() { curl -s "http://127.0.0.1:$ADMIN/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
# reason EVENT NODE: the reason of the EVENT of NODE the receiver got
reason() {
	$PY - "$T/recv.jsonl" "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    b = json.loads(r["body"]) if r.get("status") == 200 else {}
    if [b.get("event"), b.get("node")] == sys.argv[2:4]:
        print(b.get("reason", ""))
PY
}
no_event_lost() {
	events_check
	[ "$EV_LOST" = 0 ]
}
ASAN=
ldd "$top_builddir/vigil" 2>/dev/null | grep -q libasan && ASAN=1

load_start hk --conns 4 --post-every 10
rss0=$(rss)

# hook_case NODE: shuts NODE down; while its hook runs, the load must
# flow at three moments one after the other and the admin API answer;
# sets FLOWED and PEAK_RSS (KiB).
hook_case() {
	local n=$1 r
	FLOWED=0
	PEAK_RSS=0
	simctl "$n" shutdown >/dev/null
	t_wait 10 "$n shut down: its hook runs" grep -q "start $n" "$T/hook.log"
	while [ "$(hook_state "$n")" = running ] && [ "$FLOWED" -lt 3 ]; do
		load_flows hk 2 || break
		FLOWED=$((FLOWED + 1))
		r=$(rss)
		[ "$r" -gt "$PEAK_RSS" ] && PEAK_RSS=$r
	done
	t_wait 10 "$n: restart_failed reached the receiver" got restart_failed "$n" 1
	t_wait 10 "$n: then restart_gave_up (max_attempts = 1)" got restart_gave_up "$n" 1
}

hook_case b
t_is "$FLOWED" 3 "hang: the load flowed at three moments while the hook ran"
t_like "$(reason restart_failed b)" "timed out after 4000 ms; killed by SIGTERM" \
	"hang: restart_failed says it timed out and was stopped"
flow_hang=$FLOWED

hook_case c
t_like "$(reason restart_failed c)" "exit status 1; last output: cannot reach the node's control API" \
	"exit 1: restart_failed gives the status and the last output"

hook_case d
t_is "$FLOWED" 3 "flood: the load flowed at three moments while the hook ran"
t_like "$(reason restart_failed d)" "timed out after 4000 ms; killed by SIGTERM" \
	"flood: restart_failed says it timed out and was stopped"
peak=$PEAK_RSS
logged=$(grep -c 'hook d: flooding the log' "$T/vigil.log" || true)
t_is "$logged" 1000 "flood: 1,000 lines of it logged"
t_ok "flood: then that further output is not logged" log_has "hook d: further output not logged"
t_diag "vigil's RSS: $rss0 KiB before, $peak KiB at most during the flood, $(rss) KiB after"
if [ -n "$ASAN" ]; then
	t_skip "flood: vigil's memory stays bounded" "RSS means nothing under AddressSanitizer"
else
	t_ok "flood: vigil's memory stays bounded (under 20 MiB more)" test "$peak" -lt $((rss0 + 20480))
fi

t_is "$(metric 'vigil_hook_runs_total{result="failed"}')" 3 "/metrics: three failed hook runs"
t_is "$(status a state)" running "a stayed running throughout"
t_is "$(received node_down a)" 0 "and was never reported down"
t_ok "the load still flows" load_flows hk 5
load_stop hk
t_is "$LOAD_ERR" 0 "no GET failed ($LOAD_OK answered)"
t_wait 10 "every event vigil raised reached the receiver" no_event_lost

figure hook-faults hooks_failed=3 requests=$((LOAD_OK + LOAD_ERR + LOAD_POST_OK + LOAD_POST_ERR)) \
	failed=$LOAD_ERR posts_failed=$LOAD_POST_ERR max_gap_ms=$LOAD_GAP_MS \
	flood_lines_logged=$logged rss_kib_before=$rss0 rss_kib_peak=$peak \
	events_lost=$EV_LOST

vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly"
t_done
