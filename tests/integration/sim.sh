#!/usr/bin/env bash
# tests/integration/sim.sh: the simulated vRO node (tests/sim/vigil-sim) that
# the other integration tests and the demo stand on: its HTTP answers, its
# WebSocket echo, its heartbeats in PostgreSQL, the vRO-like promotion of a
# standby, restart, split brain, DB loss and the control socket's faults.
# Small timings: a beat every 200 ms, failover after 5 missed (1 s).
# shellcheck disable=SC2317 # the helpers run through t_ok, t_wait and stays

. "$top_srcdir/tests/integration/lib.sh"

SIMCTL=$top_builddir/tests/sim/vigil-simctl
if [ ! -x "$top_builddir/tests/sim/vigil-sim" ] || [ ! -x "$SIMCTL" ]; then
	t_skip_all "tests/sim/vigil-sim is not built"
fi
command -v curl >/dev/null || t_skip_all "curl is not installed"
pg_start || t_skip_all "no PostgreSQL server to test against"

TIMING=(--interval-ms 200 --failover-heartbeats 5 --startup-ms 1000)
FAILOVER_S=1

# ---------------------------------------------------------------- helpers

url() { echo "http://127.0.0.1:$(sim_port "$1")$2"; }
get() { curl -s --max-time 5 "$@"; }
code() { curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$@"; }
health() { get "$(url "$1" /vco/api/healthstatus)"; }
is_state() { health "$1" | grep -q "^{\"state\":\"$2\""; }
status_is() { [ "$(simctl "$1" status)" = "$2" ]; }
beat() { psql_q "SELECT beat FROM vigil_heartbeat WHERE node = '$1'"; }
beat_moved() { local now; now=$(beat "$1") && [ -n "$now" ] && [ "$now" != "$2" ]; }
# beat_older / beat_fresh NODE MS: its beat is older / younger than MS
beat_older() { [ "$(psql_q "SELECT now() - beat > interval '$2 ms' FROM vigil_heartbeat WHERE node = '$1'")" = t ]; }
beat_fresh() { [ "$(psql_q "SELECT now() - beat < interval '$2 ms' FROM vigil_heartbeat WHERE node = '$1'")" = t ]; }
role() { psql_q "SELECT state FROM vigil_sim_role WHERE node = '$1'"; }
running_among() {
	local n=0 s
	for s in "$@"; do is_state "$s" RUNNING && n=$((n + 1)); done
	echo "$n"
}
count_running_is() { [ "$(running_among "${@:2}")" = "$1" ]; }
fresh_running_rows_are() {
	[ "$(psql_q "SELECT count(*) FROM vigil_sim_role JOIN vigil_heartbeat USING (node)
		WHERE state = 'RUNNING' AND now() - beat < interval '1 s'")" = "$1" ]
}
# raw PORT BYTES: send BYTES (printf %b escapes) and print all that comes back
raw() {
	# shellcheck disable=SC2016
	timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "%b" "$2" >&3 && cat <&3' _ "$@"
}
now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }
# stays MS CMD...: CMD keeps succeeding for MS milliseconds (an invariant, so
# it has to be watched for that long)
stays() {
	local end=$(($(now_us) + $1 * 1000))
	shift
	while [ "$(now_us)" -lt "$end" ]; do
		"$@" || return 1
		sleep 0.1
	done
}

# ---------------------------------------------------------------- start-up

t_ok "sim a starts RUNNING" sim_start a running "${TIMING[@]}"
t_wait 5 "a writes its heartbeat row" beat_fresh a 1000
t_ok "sim b starts STANDBY" sim_start b standby "${TIMING[@]}"
t_ok "sim c starts STANDBY (priority 50)" sim_start c standby "${TIMING[@]}" --priority 50
t_like "$(cat "$T/sim-a.log")" "^sim a: ready on http://127\.0\.0\.1:$(sim_port a) state=RUNNING$" \
	"a prints its ready line"
t_is "$(simctl a status)" "ok state=RUNNING heartbeat=on listening=yes drops=0" "status of a RUNNING node"
t_is "$(simctl b status)" "ok state=STANDBY heartbeat=on listening=yes drops=0" "status of a STANDBY node"

# ---------------------------------------------------------------- HTTP

t_like "$(health a)" '^\{"state":"RUNNING","health-status":\{"state":"OK","time":[0-9]{13}\},"instance-id":"a"\}$' \
	"healthstatus of a RUNNING node"
t_like "$(health b)" '^\{"state":"STANDBY","health-status":\{"state":"OK","time":[0-9]{13}\},"instance-id":"b"\}$' \
	"healthstatus of a STANDBY node"
t_like "$(get -D - -o /dev/null "$(url a /vco/api/healthstatus)" | tr -d '\r')" \
	'Content-Type: application/json' "healthstatus is JSON"
t_is "$(code "$(url a /vco/api/health/readiness)")" 200 "readiness of a RUNNING node: 200"
t_is "$(code "$(url b /vco/api/health/readiness)")" 503 "readiness of a STANDBY node: 503"

t_is "$(get -X DELETE "$(url a '/some/path?q=1')")" "a DELETE /some/path?q=1" "catch-all body"
t_like "$(get -D - -o /dev/null "$(url b /x)" | tr -d '\r')" '^X-Node: b$' "catch-all carries X-Node"
t_like "$(get -D - -o /dev/null "$(url b /vco/api/healthstatus)" | tr -d '\r')" '^X-Node: b$' \
	"healthstatus carries X-Node"

head -c 100000 /dev/urandom >"$T/upload"
t_is "$(get --data-binary @"$T/upload" -H 'Expect:' "$(url a /up)")" "$(printf 'a POST /up\nbody-bytes=100000')" \
	"fixed-length upload"
t_is "$(get -X PUT -H 'Transfer-Encoding: chunked' -H 'Expect:' --data-binary @"$T/upload" "$(url a /up)")" \
	"$(printf 'a PUT /up\nbody-bytes=100000')" "chunked upload"
out=$(raw "$(sim_port a)" 'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
t_like "$out" 'body-bytes=5' "chunk extensions and trailers are read"
t_like "$out" 'a GET /next' "the request after a chunked body is answered"
out=$(get -v -H 'Expect: 100-continue' --data-binary @"$T/upload" "$(url a /e)" 2>&1 | tr -d '\r')
t_like "$out" '^< HTTP/1.1 100 Continue$' "Expect: 100-continue gets 100 Continue"
t_like "$out" 'body-bytes=100000' "then the body is read and answered"

out=$(raw "$(sim_port a)" 'HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
t_like "$out" 'Content-Length: 10' "HEAD: the length of the GET body"
t_is "$(raw "$(sim_port a)" 'HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | tail -c 4 | od -An -tx1 | tr -d ' \n')" \
	0d0a0d0a "HEAD: no body"

t_is "$(get -o /dev/null -o /dev/null -w '%{num_connects} ' "$(url a /1)" "$(url a /2)")" "1 0 " \
	"keep-alive: two requests, one connection"
out=$(raw "$(sim_port a)" 'GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
t_like "$(echo "$out" | grep -E '^a (slow|GET)' | tr '\n' ' ')" '^a slow 300 ms.a GET /second.$' \
	"pipelined requests are answered in order"
out=$(raw "$(sim_port a)" 'GET /ten HTTP/1.0\r\n\r\n')
t_like "$out" 'Connection: close' "HTTP/1.0: answered and closed"
t_like "$(raw "$(sim_port a)" 'GET /x HTTP/1.1\r\nBad Header: 1\r\n\r\n')" '^HTTP/1.1 400 ' "malformed header: 400"
t_is "$(code -H "X-Big: $(head -c 70000 /dev/zero | tr '\0' a)" "$(url a /x)")" 431 "header block over 64 KiB: 431"

t0=$(now_us)
get -o /dev/null "$(url a '/slow?ms=1500')" &
slow_pid=$!
t_is "$(get "$(url a /quick)")" "a GET /quick" "another request is answered while /slow waits"
t_ok "... at once" test $(($(now_us) - t0)) -lt 1000000
wait "$slow_pid"
t_ok "/slow?ms=1500 takes 1.5 s" test $(($(now_us) - t0)) -ge 1500000
t_is "$(get "$(url a '/big?bytes=5000000')" | wc -c)" 5000000 "/big?bytes=5000000 sends 5000000 bytes"

cat >"$T/ws.py" <<'EOF'
import asyncio, sys
import websockets

async def main(url):
    async with websockets.connect(url, max_size=None) as ws:
        for msg in ["hello", "x" * 70000, bytes(range(256)) * 300]:
            await ws.send(msg)
            got = await ws.recv()
            assert got == msg, "the echo of a %d-byte message differs" % len(msg)
        await ws.send(["frag-1 ", "frag-2"])   # one message in two frames
        assert await ws.recv() == "frag-1 frag-2"
        await asyncio.wait_for(await ws.ping(b"p"), 5)
    print("echo ok")

asyncio.run(asyncio.wait_for(main(sys.argv[1]), 20))
EOF
if /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
	t_is "$(/usr/bin/python3 "$T/ws.py" "ws://127.0.0.1:$(sim_port a)/ws")" "echo ok" \
		"WebSocket echo: text, 70000 bytes, binary, fragments, ping"
else
	t_skip "WebSocket echo" "/usr/bin/python3 has no websockets module (python3-websockets)"
fi

# ---------------------------------------------------------------- heartbeats

# A beat written while the query runs can be a fraction of a ms "in the
# future" of now() (the transaction's start): ages may be slightly negative.
t_wait 5 "b and c write heartbeat rows" eval 'beat_fresh b 1000 && beat_fresh c 1000'
t_like "$(psql_q "SELECT node, EXTRACT(EPOCH FROM now()-beat)*1000 FROM vigil_heartbeat ORDER BY node" | tr '\n' ' ')" \
	'^a\|-?[0-9.]+ b\|-?[0-9.]+ c\|-?[0-9.]+ $' "the heartbeat query vigil runs sees a, b and c"
b0=$(beat a)
t_wait 2 "a's beat advances" beat_moved a "$b0"
t_is "$(psql_q "SELECT node || '=' || state FROM vigil_sim_role ORDER BY node" | tr '\n' ' ')" \
	"a=RUNNING b=STANDBY c=STANDBY " "role rows"

t_is "$(simctl b heartbeat stop)" "ok heartbeat=off" "heartbeat stop"
t_ok "status says heartbeat=off" status_is b "ok state=STANDBY heartbeat=off listening=yes drops=0"
t_wait 3 "b's beat ages past 3 intervals" beat_older b 600
b0=$(beat b)
a0=$(beat a)
t_wait 2 "(a's beat advances meanwhile)" beat_moved a "$a0"
t_is "$(beat b)" "$b0" "b's beat stays where it stopped"
t_is "$(simctl b heartbeat resume)" "ok heartbeat=on" "heartbeat resume"
t_wait 2 "b's beat advances again" beat_moved b "$b0"

# ---------------------------------------------------------------- promotion

t_is "$(simctl a shutdown)" "ok state=SHUTDOWN" "shutdown a"
rc=0
curl -s -o /dev/null --max-time 5 "$(url a /)" || rc=$?
t_is "$rc" 7 "a's connects are refused"
t_ok "a's status" status_is a "ok state=SHUTDOWN heartbeat=off listening=no drops=0"
t_wait $((FAILOVER_S + 4)) "a standby takes over within the failover timeout" count_running_is 1 b c
t_ok "c, the better candidate (priority 50), is the one" is_state c RUNNING
t_ok "b stays STANDBY" stays 1500 is_state b STANDBY
t_ok "... and c RUNNING" is_state c RUNNING
t_like "$(cat "$T/sim-c.log")" '^sim c: promoted to RUNNING' "c logs its promotion"
t_like "$(role a)" 'RUNNING' "a's row still says RUNNING (its beat is stale)"

t_is "$(simctl a restart)" "ok state=STARTING" "restart a"
t_is "$(code "$(url a /vco/api/healthstatus)")" 503 "a answers 503 during its start-up"
t_is "$(code "$(url a /anything)")" 503 "... to every request"
t_wait 5 "a comes back as STANDBY (c is running)" is_state a STANDBY
t_ok "status after the start-up" status_is a "ok state=STANDBY heartbeat=on listening=yes drops=0"
t_ok "c is still RUNNING" is_state c RUNNING

# ---------------------------------------------------------------- faults

t_is "$(simctl a running)" "ok state=RUNNING" "force a RUNNING"
t_wait 3 "split brain: two fresh RUNNING rows" fresh_running_rows_are 2
t_ok "neither steps down" stays 1200 count_running_is 2 a b c
t_is "$(simctl c standby)" "ok state=STANDBY" "standby c"
t_ok "c answers STANDBY" is_state c STANDBY
t_ok "and nobody takes its place (a is running)" stays 1200 count_running_is 1 a b c

t_is "$(simctl b http500 on)" "ok http500=on" "http500 on"
t_is "$(code "$(url b /vco/api/healthstatus)")" 500 "healthstatus answers 500"
t_is "$(code "$(url b /other)")" 200 "other paths still answer"
simctl b http500 off >/dev/null
t_is "$(code "$(url b /vco/api/healthstatus)")" 200 "http500 off: 200 again"

t_is "$(simctl b hang on)" "ok hang=on" "hang on"
rc=0
curl -s -o /dev/null --max-time 1 "$(url b /vco/api/healthstatus)" || rc=$?
t_is "$rc" 28 "a hung node accepts but never answers (curl times out)"
simctl b hang off >/dev/null
t_is "$(code "$(url b /vco/api/healthstatus)")" 200 "hang off: answers again"

t_is "$(simctl b delay 400)" "ok delay=400" "delay 400"
t0=$(now_us)
t_is "$(code "$(url b /x)")" 200 "a delayed answer"
t_ok "... takes 400 ms" test $(($(now_us) - t0)) -ge 400000
simctl b delay 0 >/dev/null

t_ok "simctl: ok exits 0" simctl b status
rc=0
out=$(simctl b frobnicate) || rc=$?
t_is "$rc" 1 "simctl: error exits 1"
t_like "$out" '^error ' "... and prints the error"
rc=0
simctl b delay x >/dev/null || rc=$?
t_is "$rc" 1 "simctl: bad arguments exit 1"
rc=0
"$SIMCTL" "$T/nothing.sock" status 2>"$T/simctl.err" || rc=$?
t_is "$rc" 2 "simctl: no socket exits 2"
t_like "$(cat "$T/simctl.err")" 'cannot connect' "... with a message"
t_like "$(stat -c %a "$T/sim-b.sock")" '^600$' "the control socket is 0600"

# ---------------------------------------------------------------- DB loss

t_ok "a is RUNNING before the database goes" is_state a RUNNING
pg_stop
t_wait $((FAILOVER_S + 4)) "a steps down to STANDBY when it cannot beat" is_state a STANDBY
t_like "$(cat "$T/sim-a.log")" 'heartbeat write failed' "a logs the failed writes"
t_ok "and keeps serving HTTP meanwhile" test "$(code "$(url a /x)")" = 200
t_ok "PostgreSQL starts again" pg_start_again
t_wait 5 "the nodes beat again" eval 'beat_fresh a 500 && beat_fresh b 500'
t_wait $((FAILOVER_S + 4)) "one node promotes itself again" count_running_is 1 a b c
t_ok "and only one (c is held)" stays 1200 count_running_is 1 a b

# ---------------------------------------------------------------- Control Center

# v: beats with the others, Control Center with basic auth; w: no database,
# no auth, a restart that leaves the server stopped for 600 ms first.
CC_V=$(free_port)
CC_W=$(free_port)
CC_AUTH='admin:s3cret:pw'
t_ok "sim v starts with a Control Center" \
	sim_start v standby "${TIMING[@]}" --cc-port "$CC_V" --cc-credentials "$CC_AUTH"
t_like "$(cat "$T/sim-v.log")" "^sim v: control center on http://127\.0\.0\.1:$CC_V \(basic auth\)$" \
	"v prints where its Control Center is"
cc() { echo "http://127.0.0.1:$1/vco-controlcenter/api/server/status$2"; }
# cc_is PORT STATUS [CURL-ARGS...]: the Control Center at PORT says STATUS
cc_is() { [ "$(get "${@:3}" "$(cc "$1")")" = "{\"currentStatus\":\"$2\"}" ]; }
t_is "$(code "$(cc "$CC_V")")" 401 "Control Center without credentials: 401"
t_like "$(get -D - -o /dev/null "$(cc "$CC_V")" | tr -d '\r')" '^WWW-Authenticate: Basic realm="vco-controlcenter"$' \
	"... with a Basic challenge"
t_is "$(code -u admin:wrong "$(cc "$CC_V")")" 401 "wrong password: 401"
t_is "$(code -H 'Authorization: Bearer x' "$(cc "$CC_V")")" 401 "another scheme: 401"
t_is "$(code -u admin:wrong -X POST "$(cc "$CC_V" /restart)")" 401 "restart with a wrong password: 401"
t_is "$(simctl v cc-status)" "ok cc=RUNNING restarts=0 cc-fail=off" "... and nothing was restarted"
t_is "$(get -u "$CC_AUTH" "$(cc "$CC_V")")" '{"currentStatus":"RUNNING"}' "status of a STANDBY node's server: RUNNING"
t_like "$(get -u "$CC_AUTH" -D - -o /dev/null "$(cc "$CC_V")" | tr -d '\r')" '^Content-Type: application/json$' \
	"... as JSON"
t_is "$(code -u "$CC_AUTH" -X POST "$(cc "$CC_V")")" 405 "POST to the status: 405"
t_is "$(code -u "$CC_AUTH" "$(cc "$CC_V" /restart)")" 405 "GET of the restart: 405"
t_is "$(code -u "$CC_AUTH" "http://127.0.0.1:$CC_V/vco/api/healthstatus")" 404 "the server's paths are not there: 404"
t_is "$(simctl v hang on)" "ok hang=on" "hang v"
t_is "$(get -u "$CC_AUTH" "$(cc "$CC_V")")" '{"currentStatus":"UNDEFINED"}' "a hung server: UNDEFINED"
simctl v hang off >/dev/null

t_is "$(simctl v shutdown)" "ok state=SHUTDOWN" "shutdown v"
t_is "$(get -u "$CC_AUTH" "$(cc "$CC_V")")" '{"currentStatus":"STOPPED"}' \
	"the Control Center answers while the server is down: STOPPED"
rc=0
curl -s -o /dev/null --max-time 5 "$(url v /)" || rc=$?
t_is "$rc" 7 "(the server's connects are refused)"
t_wait 3 "v's beat goes stale" beat_older v 600
t_is "$(simctl v cc-fail on)" "ok cc-fail=on" "cc-fail on"
t_is "$(code -u "$CC_AUTH" -X POST "$(cc "$CC_V" /restart)")" 500 "cc-fail: the restart answers 500"
t_ok "... and the server stays down" status_is v "ok state=SHUTDOWN heartbeat=off listening=no drops=0"
t_is "$(simctl v cc-fail off)" "ok cc-fail=off" "cc-fail off"
t_is "$(get -u "$CC_AUTH" -X POST -w ' %{http_code}' "$(cc "$CC_V" /restart)")" '{"currentStatus":"STARTING"} 202' \
	"restart: 202, STARTING"
t_is "$(code "$(url v /vco/api/healthstatus)")" 503 "the server listens again and answers 503 while starting"
t_wait 5 "the Control Center says RUNNING again" cc_is "$CC_V" RUNNING -u "$CC_AUTH"
t_ok "v is back as STANDBY (a node of the cluster is running)" is_state v STANDBY
t_wait 2 "v beats again" beat_fresh v 500
t_is "$(simctl v cc-status)" "ok cc=RUNNING restarts=1 cc-fail=off" "one restart counted"
t_like "$(cat "$T/sim-v.log")" 'control center: restart asked' "v logs the restart"

PG_CONNINFO='' t_ok "sim w: no database, a Control Center without auth" \
	sim_start w running --startup-ms 300 --cc-port "$CC_W" --cc-restart-delay-ms 600
t_is "$(get "$(cc "$CC_W")")" '{"currentStatus":"RUNNING"}' "without --cc-credentials: no auth"
t_is "$(get -X POST -w ' %{http_code}' "$(cc "$CC_W" /restart)")" '{"currentStatus":"STOPPED"} 202' \
	"--cc-restart-delay-ms: STOPPED first"
t_ok "... for a while" stays 300 cc_is "$CC_W" STOPPED
t_wait 5 "then RUNNING" cc_is "$CC_W" RUNNING
t_ok "w serves again, as it was started" is_state w RUNNING
code -X POST "$(cc "$CC_W" /restart)" >/dev/null
t_is "$(simctl w shutdown)" "ok state=SHUTDOWN" "a shutdown while a restart is pending"
t_ok "... cancels it" stays 1000 status_is w "ok state=SHUTDOWN heartbeat=off listening=no drops=0"
t_is "$(simctl w cc-status)" "ok cc=STOPPED restarts=2 cc-fail=off" "cc-status"
t_like "$(simctl a cc-status)" '^error no control center' "cc-status without --cc-port: error"

# ---------------------------------------------------------------- TLS, no database

if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
		-days 1 -subj /CN=127.0.0.1 >/dev/null 2>&1
	PG_CONNINFO='' sim_start t running --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
	t_like "$(get -k "https://127.0.0.1:$(sim_port t)/vco/api/healthstatus")" '^\{"state":"RUNNING"' \
		"--tls-cert: HTTPS"
	t_is "$(get -k "https://127.0.0.1:$(sim_port t)/big?bytes=3000000" | wc -c)" 3000000 "HTTPS /big"
	t_ok "without a database: heartbeat=off" status_is t "ok state=RUNNING heartbeat=off listening=yes drops=0"
else
	t_skip "--tls-cert" "no openssl command"
fi

sim_stop b
t_is "$SIM_STATUS" 0 "SIGTERM: exit 0"
t_ok "the control socket is removed" test ! -e "$T/sim-b.sock"

t_done
