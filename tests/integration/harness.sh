#!/usr/bin/env bash
# Self-test of the integration test harness, tests/integration/lib.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

LIB=$top_srcdir/tests/integration/lib.sh
OUT=$T/out
mkdir "$OUT"

# --- assertions, as seen by the TAP driver: run a child test and read its TAP
cat >"$T/child.sh" <<'EOF'
set -euo pipefail
. "$LIB"
echo "$T" >"$OUT/child-T"
t_ok "true passes" true
t_ok "false fails" false
t_ok "inverted" ! false
t_is a b "a is b"
t_like "hello" '^h' "hello is like ^h"
t_like "hello" '^x' "hello is like ^x"
t_skip "skipped one" "no reason"
t_ok "a # in the description" true
t_ok "a shell function" eval 'test 1 = 1'
bg sleeper sleep 1000
echo "$BG_PID" >"$OUT/sleeper.pid"
on_exit touch "$OUT/on_exit ran"
on_exit sh -c 'test -d "$1" && touch "$2"' _ "$T" "$OUT/T still there"
echo "stray output on stderr" >&2
case ${CHILD_MODE:-ok} in
ok) t_done ;;
skip) t_skip_all "nothing to do" ;;
die) false ;;
term) kill -TERM $$; sleep 5 ;;
esac
EOF
child() { # MODE -> stdout in $OUT/tap, exit status in $OUT/rc
	rm -f "$OUT"/*
	local rc=0
	# KEEP_TMP=0: "$T is removed" holds even when this test runs with KEEP_TMP=1
	KEEP_TMP=0 LIB=$LIB OUT=$OUT CHILD_MODE=$1 bash "$T/child.sh" >"$OUT/tap" 2>"$OUT/err" || rc=$?
	echo "$rc" >"$OUT/rc"
}

child ok
expected='ok 1 - true passes
not ok 2 - false fails
#   failed (exit 1): false
ok 3 - inverted
not ok 4 - a is b
#          got: '"'a'"'
#     expected: '"'b'"'
ok 5 - hello is like ^h
not ok 6 - hello is like ^x
#          got: '"'hello'"'
#   not like: /^x/
ok 7 - skipped one # SKIP no reason
ok 8 - a \# in the description
ok 9 - a shell function
1..9'
t_is "$(cat "$OUT/tap")" "$expected" "TAP output of a test with failures"
t_is "$(cat "$OUT/rc")" 0 "t_done exits 0"
t_ok "stderr goes to the log, not the TAP stream" grep -qx "stray output on stderr" "$OUT/err"
t_ok "on_exit commands ran" test -e "$OUT/on_exit ran"
t_ok "on_exit runs before \$T is removed" test -e "$OUT/T still there"
t_ok "\$T is removed" test ! -e "$(cat "$OUT/child-T")"
t_ok "background processes are stopped" ! kill -0 "$(cat "$OUT/sleeper.pid")"

child skip
t_is "$(tail -n 1 "$OUT/tap")" "1..0 # SKIP nothing to do" "t_skip_all prints a skip plan"
t_is "$(cat "$OUT/rc")" 0 "t_skip_all exits 0"

child die
t_ok "a test that dies says so" grep -q '^# the test stopped (exit status 1) before t_done' "$OUT/tap"
t_ok "and has no plan" ! grep -q '^1\.\.' "$OUT/tap"
t_ok "its background processes are stopped" ! kill -0 "$(cat "$OUT/sleeper.pid")"

child term
t_is "$(cat "$OUT/rc")" 143 "a test killed by SIGTERM exits 143"
t_ok "its background processes are stopped" ! kill -0 "$(cat "$OUT/sleeper.pid")"
t_ok "its \$T is removed" test ! -e "$(cat "$OUT/child-T")"

rm -f "$OUT"/*
KEEP_TMP=1 LIB=$LIB OUT=$OUT bash "$T/child.sh" >/dev/null 2>&1 || true
kept=$(cat "$OUT/child-T")
t_ok "KEEP_TMP=1 keeps \$T" test -d "$kept"
rm -rf "$kept"

# --- waiting
start=${EPOCHREALTIME//[!0-9]/}
rc=0
wait_for 0.5 false 2>/dev/null || rc=$?
ms=$(((${EPOCHREALTIME//[!0-9]/} - start) / 1000))
t_is "$rc" 1 "wait_for gives up"
t_ok "after about the time asked (${ms} ms)" test "$ms" -ge 500 -a "$ms" -lt 2500
(sleep 0.3 && touch "$T/later") &
t_wait 5 "t_wait sees a file appear" test -e "$T/later"
start=${EPOCHREALTIME//[!0-9]/}
wait_for 3 sleep 30 2>/dev/null || true
ms=$(((${EPOCHREALTIME//[!0-9]/} - start) / 1000))
t_ok "wait_for bounds a command that hangs (${ms} ms)" test "$ms" -lt 6000

# --- ports
ports=()
for _ in $(seq 1 20); do ports+=("$(free_port)"); done
t_is "$(printf '%s\n' "${ports[@]}" | sort -u | wc -l)" 20 "free_port never repeats itself"
t_like "${ports[0]}" '^[0-9]+$' "free_port prints a number"
port=$(free_port)
bg listener /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5)
print("listening", flush=True); time.sleep(60)' "$port"
t_wait 10 "port_open sees a listener" port_open "$port"
t_ok "bg logs to \$T/NAME.log" grep -q listening "$T/listener.log"
t_ok "port_open on a closed port fails" ! port_open "$(free_port)"

# --- PostgreSQL
if pg_start; then
	t_ok "pg_start" true
	t_is "$(psql_q 'SELECT 1')" 1 "psql_q"
	t_like "$PG_CONNINFO" "^host=127\.0\.0\.1 port=$PGPORT dbname=vigil user=[a-z_]+ connect_timeout=2\$" "PG_CONNINFO"
	t_ok "the heartbeat table is there" psql_q "INSERT INTO vigil_heartbeat VALUES ('vro-1', now())"
	t_is "$(ss -ltnH "sport = :$PGPORT" | awk '{print $4}' | sort -u)" "127.0.0.1:$PGPORT" "PostgreSQL listens on 127.0.0.1 only"
	if [ "$(id -u)" = 0 ]; then
		t_is "$(ps -o user= -p "$PG_PID" | tr -d ' ')" nobody "as root, PostgreSQL runs as nobody"
	fi
	pg_stop
	t_ok "pg_stop stops it" ! psql_q 'SELECT 1'
	t_ok "pg_start_again" pg_start_again
	t_is "$(psql_q 'SELECT node FROM vigil_heartbeat')" vro-1 "the data is kept"
else
	t_ok "pg_start" false
fi

# --- simulated nodes
if [ -x "$top_builddir/tests/sim/vigil-sim" ] && [ -x "$top_builddir/tests/sim/vigil-simctl" ]; then
	if sim_start vro-1 running; then
		t_ok "sim_start" true
		t_like "$(curl -s --max-time 5 "http://127.0.0.1:$(sim_port vro-1)/vco/api/healthstatus")" \
			'"state" *: *"RUNNING"' "the sim answers on sim_port"
		t_ok "simctl status" simctl vro-1 status
		pid=${SIM_PID[vro-1]}
		sim_stop vro-1
		t_ok "sim_stop stops it" ! kill -0 "$pid"
	else
		t_ok "sim_start" false
	fi
else
	t_skip "sim_start" "tests/sim/vigil-sim is not built"
fi

t_done
