#!/usr/bin/env bash
# nodes.sh: one node of three (active_nodes = 0) fails under a steady
# keep-alive load of GETs and POSTs: frozen (SIGSTOP), its REST API
# answering 500, answering slower than the probe timeout, accepting and
# never answering, killed (SIGKILL). Each time: the state /api/status
# shows (SPEC.md's table), the node_down and node_up events the receiver
# got, no GET failed (an idempotent request whose node failed goes once to
# another), and, as a figure, the POSTs that failed (one its node got and
# never answered is not sent twice).
. "$top_srcdir/tests/faults/lib.sh"

fault_pg
fault_sims a:running:1 b:running:2 c:running:3
fault_receiver
# No flap damping: b fails four times within a minute here, and each of
# its node_down and node_up events must reach the receiver.
F_NOTIFY="flap_changes = 0;"
fault_conf
fault_vigil
ALL='["a","b","c"]'
t_wait 10 "three nodes active (active_nodes = 0)" active_is "$ALL"
# A frozen sim must not outlive the test.
on_exit kill -CONT "${SIM_PID[b]}"

# got_state EVENT NODE STATE: the receiver acknowledged EVENT of NODE in STATE
got_state() {
	$PY - "$T/recv.jsonl" "$@" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    b = json.loads(r["body"]) if r.get("status") == 200 else {}
    if [b.get("event"), b.get("node"), b.get("state")] == sys.argv[2:5]:
        sys.exit(0)
sys.exit(1)
PY
}
# got EVENT NODE N: the receiver acknowledged at least N EVENTs of NODE
got() { [ "$(received "$1" "$2")" -ge "$3" ]; }
conns_zero() { [ "$(status "$1" connections)" = 0 ]; }
# retries [WHY]: the requests vigil has sent to another node so far
retries() { grep -c "${1:-}); retrying on" "$T/vigil.log" || true; }
# pinned NODE kill SIG PID | pinned NODE ctl COMMAND: gets a cookie for
# NODE, makes it fail (a signal to PID, or a command on its control
# socket), and at once sends a GET with that cookie: vigil routes it to
# NODE, which still looks healthy for a few probes. Prints the status and
# the body (the name of the node that answered first).
pinned() {
	$PY - "$VIP" "$T/sim-$1.sock" "$@" <<'PY'
import http.client, os, signal, socket, sys
port, sock, node, how = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
def get(src, cookie=""):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                   source_address=(src, 0))
    c.request("GET", "/pinned", headers={"Cookie": cookie} if cookie else {})
    r = c.getresponse()
    return r, r.read().decode()
for i in range(2, 250):
    cookie = (get("127.0.0.%d" % i)[0].getheader("Set-Cookie") or "").split(";")[0]
    if cookie.split("=", 1)[-1].startswith(node + "."):
        break
if how[0] == "kill":
    os.kill(int(how[2]), getattr(signal, "SIG" + how[1]))
else:
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall((" ".join(how[1:]) + "\n").encode())
    s.recv(512)
r, body = get("127.0.0.1", cookie)
print(r.status, body)
PY
}
no_event_lost() {
	events_check
	[ "$EV_LOST" = 0 ]
}

# fault CASE NODE STATE INJECT RESTORE: the load runs, INJECT makes NODE
# fail, vigil must show STATE and say so; RESTORE ("" for none) brings it
# back. Sets the case's figures, and TIMEOUT_RETRIES: the requests retried
# after the server timeout.
fault() {
	local c=$1 n=$2 st=$3 inject=$4 restore=$5 l=${1//-/_} up0 r0 t0
	up0=$(received node_up "$n")
	r0=$(retries)
	t0=$(retries "timed out")
	load_start "$l" --conns 4 --post-every 10
	t_ok "$c: the load flows" load_flows "$l" 5
	eval "$inject"
	t_wait 10 "$c: $n is $st in /api/status" state_is "$n" "$st"
	t_wait 10 "$c: node_down ($st) reached the receiver" got_state node_down "$n" "$st"
	t_ok "$c: $n left the active set" ! active_is "$ALL"
	t_ok "$c: the load flows without $n" load_flows "$l" 5
	# What it held is answered, retried or timed out before it comes back.
	t_wait 10 "$c: no request is left on $n" conns_zero "$n"
	if [ -n "$restore" ]; then
		eval "$restore"
		t_wait 10 "$c: $n is running again" state_is "$n" running
		t_wait 10 "$c: node_up reached the receiver" got node_up "$n" $((up0 + 1))
		t_wait 10 "$c: $n is active again" active_is "$ALL"
		t_ok "$c: the load flows with $n back" load_flows "$l" 5
	fi
	load_stop "$l"
	TIMEOUT_RETRIES=$(($(retries "timed out") - t0))
	t_is "$LOAD_ERR" 0 "$c: no GET failed ($LOAD_OK answered)"
	t_ok "$c: POSTs went on too" test "$LOAD_POST_OK" -gt 0
	t_wait 10 "$c: every event vigil raised reached the receiver" no_event_lost
	figure "$c" requests=$((LOAD_OK + LOAD_ERR + LOAD_POST_OK + LOAD_POST_ERR)) \
		failed=$LOAD_ERR posts=$((LOAD_POST_OK + LOAD_POST_ERR)) \
		posts_failed=$LOAD_POST_ERR retried=$(($(retries) - r0)) \
		retried_after_timeout=$TIMEOUT_RETRIES max_gap_ms=$LOAD_GAP_MS \
		events_lost=$EV_LOST
}

# Frozen: the probes time out, then the heartbeats stop (failing + stale:
# shut_down). The requests it holds get no answer: once it left routing,
# the server timeout sends the GETs to another node. Thawed, the sim finds
# it missed its heartbeats and rejoins as standby, as a vRO node does: the
# test makes it running again.
fault nodes-sigstop b shut_down 'bg pinned pinned b kill STOP "${SIM_PID[b]}"' \
	'kill -CONT "${SIM_PID[b]}"; simctl b running >/dev/null'
t_like "$(cat "$T/pinned.log")" "^200 [ac] GET /pinned" \
	"nodes-sigstop: a GET it held was answered by another node"
t_ok "nodes-sigstop: once b had left routing, after the server timeout" \
	log_has "proxy: b unreachable \(timed out\); retrying on [ac]"

# The REST API fails, the heartbeats go on: unreachable.
fault nodes-http500 b unreachable 'simctl b http500 on >/dev/null' 'simctl b http500 off >/dev/null'

# Slower than the probes' timeout_ms (200 ms), well within the proxy's
# server timeout: unreachable, and the requests it holds are answered.
fault nodes-slow b unreachable 'simctl b delay 500 >/dev/null' 'simctl b delay 0 >/dev/null'

# Accepts, reads, never answers: like a frozen node, but it still beats.
fault nodes-hang b unreachable 'bg pinned pinned b ctl hang on' 'simctl b hang off >/dev/null'
t_like "$(cat "$T/pinned.log")" "^200 [ac] GET /pinned" \
	"nodes-hang: a GET it held was answered by another node"
t_ok "nodes-hang: after the server timeout" test "$TIMEOUT_RETRIES" -ge 1

# Killed: connections refused at once, then the heartbeats stop.
fault nodes-sigkill c shut_down 'kill -KILL "${SIM_PID[c]}"' ""

t_is "$(received node_down a)" 0 "a, which never failed, was never reported down"
events_check
t_is "$EV_DUPS" 0 "no event was delivered twice"

vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly"
t_done
