#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2153  # functions run through t_wait/on_exit; variables from demo.env
# The demo comes up: `quickstart demo` starts a throw-away PostgreSQL, three
# simulated nodes (one RUNNING, two STANDBY) and vigil, prints its URLs, and
# stops everything it started on SIGTERM or SIGINT. It runs again in the same
# directory, also when ports 8080 and 9090 are taken, and after a demo that
# was killed with SIGKILL.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

SIM=$top_builddir/tests/sim/vigil-sim
VIGIL=$top_builddir/vigil
if [ ! -x "$SIM" ] || [ ! -x "$top_builddir/tests/sim/vigil-simctl" ]; then
	t_skip_all "tests/sim/vigil-sim is not built"
fi
_t_pg_bindir || t_skip_all "no PostgreSQL server binaries"
command -v curl >/dev/null || t_skip_all "curl is missing"
env --default-signal=INT true 2>/dev/null || t_skip_all "env --default-signal is missing"

DEMO=$T/demo
chmod 711 "$T" # as root, PostgreSQL (as nobody) must reach $DEMO/pg

# When this test ends (also when it is interrupted): quickstart first, which
# stops what it started, then whatever a broken demo left behind.
stop_demo_leftovers() {
	local f pid
	if [ -n "${DEMO_PID:-}" ] && kill -0 "$DEMO_PID" 2>/dev/null; then
		_t_stop_pid "$DEMO_PID" TERM 40
	fi
	for pid in $(pgrep -f -- "$DEMO/"); do
		kill -s KILL "$pid" 2>/dev/null || true
	done
	for f in "$DEMO"/pids/*.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$DEMO/"; then
			kill -s KILL "$pid" 2>/dev/null || true
		fi
		case $(readlink "/proc/$pid/exe" 2>/dev/null) in
		*/postgres | */vigil | */vigil-sim) kill -s KILL "$pid" 2>/dev/null || true ;;
		esac
	done
}
on_exit stop_demo_leftovers

# demo_start NAME: `quickstart demo` in the background, output in $T/NAME.log
demo_start() {
	# env --default-signal: a background job of a script ignores SIGINT, and
	# bash cannot trap a signal it was started with ignored
	bg "$1" env --default-signal=INT \
		VIGIL_QUICKSTART_NOBUILD=1 VIGIL_BUILDDIR="$top_builddir" VIGIL_DEMO_DIR="$DEMO" \
		bash "$top_srcdir/quickstart" demo
	DEMO_PID=$BG_PID
}

demo_settled() { # LOG: the demo is up, or quickstart has stopped
	grep -q 'Press Ctrl-C' "$1" || ! kill -0 "$DEMO_PID" 2>/dev/null
}

state_of() { # PORT -> RUNNING, STANDBY, or what the node answered
	local body
	body=$(curl -s --max-time 5 "http://127.0.0.1:$1/vco/api/healthstatus" || true)
	if [[ $body =~ \"state\"[[:space:]]*:[[:space:]]*\"([A-Z_]+)\" ]]; then
		echo "${BASH_REMATCH[1]}"
	else
		echo "no state in: $body"
	fi
}

three_heartbeats() { # all three nodes beat within the last 5 s
	local n
	n=$(PGCONNECT_TIMEOUT=5 timeout 10 "$_T_PGBIN/psql" -XAtq "$PG_CONNINFO" \
		-c "SELECT count(*) FROM vigil_heartbeat WHERE beat > now() - interval '5 s'") &&
		[ "$n" = 3 ]
}

# demo_check LABEL NAME: the demo started as NAME is up
demo_check() {
	local label=$1 log=$T/$2.log out i
	wait_for 90 demo_settled "$log" || true
	t_ok "$label: quickstart demo prints its URLs" grep -q 'Press Ctrl-C' "$log"
	if [ "$T_LAST" != 0 ] || [ ! -f "$DEMO/demo.env" ]; then
		t_diag "$(tail -n 30 "$log")"
		t_bail "$label: the demo did not come up"
	fi
	# shellcheck source=/dev/null
	. "$DEMO/demo.env"
	out=$(cat "$log")
	for i in 1 2 3; do
		port_var=NODE${i}_PORT
		t_like "$out" "http://127\.0\.0\.1:${!port_var}/vco/api/healthstatus" "$label: prints the URL of vro-$i"
	done
	t_like "$out" "vigil-simctl [^ ]*run/vro-1\.sock shutdown" "$label: prints how to make a node fail"
	t_is "$(state_of "$NODE1_PORT")" RUNNING "$label: vro-1 is RUNNING"
	t_is "$(state_of "$NODE2_PORT")" STANDBY "$label: vro-2 is STANDBY"
	t_is "$(state_of "$NODE3_PORT")" STANDBY "$label: vro-3 is STANDBY"
	t_wait 10 "$label: the nodes write heartbeats to the demo's PostgreSQL" \
		three_heartbeats
	t_is "$(ss -ltnH "sport = :$PG_PORT" | awk '{print $4}' | sort -u)" "127.0.0.1:$PG_PORT" \
		"$label: PostgreSQL listens on 127.0.0.1 only"
	if [ -x "$VIGIL" ]; then
		t_ok "$label: vigil runs" kill -0 "$VIGIL_PID"
		t_like "$out" "VIP .*http://127\.0\.0\.1:$VIP_PORT/" "$label: prints the VIP URL"
		t_like "$out" "curl -s http://127\.0\.0\.1:$ADMIN_PORT/api/status" "$label: prints the status URL"
		t_wait 10 "$label: vigil listens on the VIP port" port_open "$VIP_PORT"
		t_ok "$label: vigil -t accepts the demo configuration" "$VIGIL" -c "$VIGIL_CONF" -t
		# what the demo says about the VIP and the status is true
		local code
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
			"http://127.0.0.1:$VIP_PORT/vco/api/healthstatus" || true)
		t_is "$code" 200 "$label: the VIP answers"
		t_ok "$label: and the demo says the active node answers" grep -q 'answered by the active node' "$log"
		t_is "$(state_of "$VIP_PORT")" RUNNING "$label: the VIP reaches the running node"
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
			"http://127.0.0.1:$ADMIN_PORT/api/status" || true)
		t_is "$code" 200 "$label: /api/status answers"
		t_wait 10 "$label: vigil sees vro-1 running and active" bash -c \
			"curl -s http://127.0.0.1:$ADMIN_PORT/api/status | grep -q '\"active\":\\[\"vro-1\"\\]'"
	else
		t_skip "$label: vigil runs" "vigil is not built"
	fi
}

nothing_from_demo_dir() { ! pgrep -a -f -- "$DEMO/"; }

# demo_stop LABEL SIGNAL: the demo stops everything it started
demo_stop() {
	local label=$1 sig=$2 pids
	pids="$PG_PID $NODE1_PID $NODE2_PID $NODE3_PID $VIGIL_PID"
	kill -s "$sig" "$DEMO_PID" || true
	t_wait 60 "$label: quickstart demo exits on SIG$sig" ! kill -0 "$DEMO_PID"
	_t_stop_pid "$DEMO_PID" KILL 1
	t_is "$_T_STATUS" 0 "$label: with status 0"
	t_ok "$label: PostgreSQL, the nodes and vigil are gone" eval "! kill -0 $pids 2>/dev/null"
	t_ok "$label: nothing runs from the demo's directory" nothing_from_demo_dir
	t_ok "$label: says it stopped" grep -q 'stopping the demo' "$T/$3.log"
}

# 1. the preferred ports, stopped with SIGTERM
demo_start demo1
demo_check "first run" demo1
demo_stop "first run" TERM demo1

# 2. again in the same directory, with 8080 and 9090 taken; SIGINT (Ctrl-C)
bg taken "${_T_PY:-python3}" -c '
import socket, time
socks = []
for port in (8080, 9090):
    s = socket.socket()
    # despite the first run'\''s connections in TIME_WAIT; fails if one listens
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        s.listen(5)
        socks.append(s)
        print("holding", port, flush=True)
    except OSError as e:
        print("port", port, "already taken:", e, flush=True)
time.sleep(600)'
ports_taken() { [ "$(grep -c 'holding\|already taken' "$T/taken.log")" = 2 ]; }
wait_for 10 ports_taken
demo_start demo2
demo_check "second run" demo2
t_ok "second run: the VIP is not on the taken port 8080" test "$VIP_PORT" != 8080
t_ok "second run: the admin interface is not on the taken port 9090" test "$ADMIN_PORT" != 9090
demo_stop "second run" INT demo2
_t_stop_pid "$BG_PID" TERM 5

# 3. a demo killed with SIGKILL leaves its processes; the next run stops them
demo_start demo3
wait_for 90 demo_settled "$T/demo3.log" || true
t_ok "killed run: comes up" grep -q 'Press Ctrl-C' "$T/demo3.log"
# shellcheck source=/dev/null
. "$DEMO/demo.env"
old="$PG_PID $NODE1_PID $NODE2_PID $NODE3_PID $VIGIL_PID"
_t_stop_pid "$DEMO_PID" KILL 5
demo_start demo4
demo_check "run after a killed one" demo4
t_ok "run after a killed one: the old processes are gone" eval "! kill -0 $old 2>/dev/null"
demo_stop "run after a killed one" TERM demo4

t_done
