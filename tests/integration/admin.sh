#!/usr/bin/env bash
# admin.sh: SPEC.md "Admin interface": every route, malformed requests
# refused by the proxy's parser, the bearer token (401
# without or with a wrong one, 403 without token_file, and nothing changes),
# a drain that really stops new clients while sticky ones stay, disable and
# enable, reload through the API (good and broken files), the event log,
# keepalived's VRRP state (POST /api/vip/STATE: vip_changed in the event log
# and at a webhook receiver), and /metrics checked line by line against the
# Prometheus text format.
. "$top_srcdir/tests/integration/lib.sh"

command -v curl >/dev/null || t_skip_all "curl is not installed"
PY=/usr/bin/python3
pg_start || t_skip_all "no PostgreSQL server to test against"

TIM=(--interval-ms 200 --failover-heartbeats 5 --startup-ms 300)
printf 'adm1n-t0ken\n' >"$T/token"
chmod 600 "$T/token"

api() { curl -s --max-time 5 "$@"; }
code() { curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$@"; }
field() { # NODE FIELD
	api "$A/api/status" | $PY -c '
import json, sys
d = json.load(sys.stdin)
n = [n for n in d["nodes"] if n["name"] == sys.argv[1]][0]
print(n[sys.argv[2]] if not isinstance(n[sys.argv[2]], bool) else str(n[sys.argv[2]]).lower())' "$1" "$2"
}
state_is() { [ "$(field "$1" state)" = "$2" ]; }
active_is() { [ "$(api "$A/api/status" | $PY -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["active"])))')" = "$1" ]; }
# nodes_of N: the nodes that answered N new clients (no cookie)
nodes_of() { for _ in $(seq 1 "$1"); do api "$V/"; done | awk '{print $1}' | sort -u | tr '\n' ' '; }

sim_start a running "${TIM[@]}" --priority 1 || t_bail "sim a"
sim_start b running "${TIM[@]}" --priority 2 || t_bail "sim b"

# a webhook receiver for vip_changed: $T/hook.jsonl, one request a line
HOOK=$(free_port)
bg recv $PY "$top_srcdir/tests/integration/receiver.py" --port "$HOOK" --out "$T/hook.jsonl"
wait_for 10 port_open "$HOOK" || t_bail "the webhook receiver did not start"

write_conf() { # TOKEN_LINE
	cat >"$T/vigil.conf" <<CONF
vigil = { name = "lb-a"; spool_dir = "$T/spool"; };
listen = ( { address = "127.0.0.1:$VPORT"; } );
cluster = { name = "c"; active_nodes = 0; nodes = (
  { name = "a"; address = "127.0.0.1:$(sim_port a)"; },
  { name = "b"; address = "127.0.0.1:$(sim_port b)"; } ); };
health = {
  probe = { interval_ms = 200; timeout_ms = 200; rise = 1; fall = 2; };
  heartbeat = { conninfo = "$PG_CONNINFO"; interval_ms = 200; failover_heartbeats = 5; };
};
notify = { channels = ( { type = "webhook"; url = "http://127.0.0.1:$HOOK/hook"; events = ["vip_changed"]; } ); };
admin = { address = "127.0.0.1:$APORT"; $1 };
CONF
}
VPORT=$(free_port)
APORT=$(free_port)
A=http://127.0.0.1:$APORT
V=http://127.0.0.1:$VPORT
write_conf "token_file = \"$T/token\";"
vigil_start "$T/vigil.conf"
t_wait 10 "both nodes active" active_is "a b"

# ---------------------------------------------------------------- GETs
t_is "$(code "$A/api/status")" 200 "GET /api/status"
t_ok "it is JSON with both nodes" bash -c "curl -s $A/api/status | $PY -c 'import json,sys; assert len(json.load(sys.stdin)[\"nodes\"]) == 2'"
t_is "$(code "$A/")" 200 "GET / (the status page)"
t_like "$(curl -s -D - -o /dev/null "$A/")" "Content-Type: text/html" "as HTML"
t_is "$(code -I "$A/api/status")" 200 "HEAD /api/status"
t_is "$(code "$A/metrics")" 200 "GET /metrics"
t_is "$(code "$A/nope")" 404 "an unknown path: 404"
t_is "$(code -X POST "$A/api/status")" 405 "POST to a GET route: 405"
t_is "$(code "$A/api/reload")" 405 "GET to a POST route: 405"

# ---------------------------------------------------------------- the token
t_is "$(code -X POST "$A/api/nodes/a/drain")" 401 "drain without a token: 401"
t_is "$(code -X POST -H 'Authorization: Bearer wrong' "$A/api/nodes/a/drain")" 401 "with a wrong token: 401"
t_is "$(code -X POST -H 'Authorization: Bearer adm1n-t0ke' "$A/api/nodes/a/drain")" 401 "with a prefix of the token: 401"
t_is "$(code -X POST -H 'Authorization: Basic adm1n-t0ken' "$A/api/nodes/a/drain")" 401 "not a bearer token: 401"
t_like "$(api -X POST "$A/api/nodes/a/drain")" '"error":' "the answer says why, as JSON"
t_is "$(field a state)" running "and nothing changed"
AUTH=(-H "Authorization: Bearer adm1n-t0ken")
t_is "$(code -X POST "${AUTH[@]}" "$A/api/nodes/zz/drain")" 404 "an unknown node: 404"
t_is "$(code -X POST "${AUTH[@]}" "$A/api/nodes/a/explode")" 404 "an unknown action: 404"

# ---------------------------------------------------------------- drain
# New clients are spread by a hash of their address: find one that gets a.
for i in $(seq 30 60); do
	rm -f "$T/jar-a"
	[ "$(curl -s --interface "127.0.0.$i" -c "$T/jar-a" "$V/" | awk '{print $1}')" = a ] && break
done
t_is "$(api -b "$T/jar-a" "$V/" | awk '{print $1}')" a "a client stuck to a"
t_is "$(api -X POST "${AUTH[@]}" "$A/api/nodes/a/drain")" '{"node":"a","state":"draining"}' "drain a: 200 and the new state"
t_wait 5 "a is draining" state_is a draining
t_is "$(field a active)" true "a draining node stays in the active set (its sticky clients)"
t_is "$(nodes_of 20)" "b " "new clients all go to b"
t_is "$(api -b "$T/jar-a" "$V/" | awk '{print $1}')" a "the client stuck to a still reaches a"
t_is "$(code -X POST "${AUTH[@]}" "$A/api/nodes/a/enable")" 200 "enable a"
t_wait 5 "a is running again" state_is a running
t_wait 5 "new clients reach a again" bash -c "[ \"\$(for i in \$(seq 1 20); do curl -s --interface 127.0.0.\$((20 + i)) $V/; done | awk '{print \$1}' | sort -u | tr '\n' ' ')\" = 'a b ' ]"

# ---------------------------------------------------------------- disable
t_is "$(code -X POST "${AUTH[@]}" "$A/api/nodes/b/disable")" 200 "disable b"
t_wait 5 "b is disabled and out of the active set" active_is "a"
t_is "$(field b state)" disabled "b: disabled"
t_is "$(nodes_of 10)" "a " "every client goes to a"
t_is "$(code -X POST "${AUTH[@]}" "$A/api/nodes/b/enable")" 200 "enable b"
t_wait 5 "b is back in the active set" active_is "a b"

# ---------------------------------------------------------------- events
simctl b http500 on >/dev/null
t_wait 5 "b unreachable (node_down)" state_is b unreachable
simctl b http500 off >/dev/null
t_wait 5 "b running again (node_up)" state_is b running
t_wait 5 "both events in the log" bash -c "grep -q node_up '$T/spool/events.log'"
api "$A/api/events" >"$T/ev.json"
t_ok "GET /api/events is {\"events\":[…]}" $PY -c "import json; d=json.load(open('$T/ev.json')); assert isinstance(d['events'], list)"
n_all=$($PY -c "import json; print(len(json.load(open('$T/ev.json'))['events']))")
t_ok "with events in it ($n_all)" test "$n_all" -ge 1
t_is "$(api "$A/api/events?limit=1" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["events"]))')" 1 "limit=1: one event"
first_id=$($PY -c "import json; print(json.load(open('$T/ev.json'))['events'][0]['id'])")
last_id=$($PY -c "import json; print(json.load(open('$T/ev.json'))['events'][-1]['id'])")
t_is "$(api "$A/api/events?since=$first_id" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["events"]))')" $((n_all - 1)) "since=ID: the events after it"
t_is "$(api "$A/api/events?since=$last_id" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["events"]))')" 0 "since the last: none"
t_is "$(code "$A/api/events?limit=x")" 400 "a bad limit: 400"

# ---------------------------------------------------------------- the VIP
# keepalived's notify script (etc/keepalived/vigil-notify) tells vigil its
# VRRP state: POST /api/vip/STATE[?instance=NAME] raises vip_changed.
# vip_events [STATE]: the vip_changed events in the log (of STATE), one
# JSON object a line
vip_events() {
	api "$A/api/events" | $PY -c '
import json, sys
for e in json.load(sys.stdin)["events"]:
    if e["event"] == "vip_changed" and (len(sys.argv) < 2 or e["state"] == sys.argv[1]):
        print(json.dumps(e, sort_keys=True))' "$@"
}
t_is "$(code -X POST "$A/api/vip/master?instance=VI_1")" 401 "POST /api/vip/master without a token: 401"
t_is "$(code -X POST -H 'Authorization: Bearer wrong' "$A/api/vip/master")" 401 "with a wrong token: 401"
t_is "$(code "$A/api/vip/master")" 405 "GET /api/vip/master: 405"
t_is "$(vip_events)" "" "and no vip_changed was raised"
t_is "$(api -X POST "${AUTH[@]}" "$A/api/vip/master?instance=VI_1")" '{"vip":"master","instance":"VI_1"}' \
	"POST /api/vip/master?instance=VI_1: the state and the instance"
t_is "$(api -X POST "${AUTH[@]}" "$A/api/vip/backup")" '{"vip":"backup","instance":null}' \
	"without an instance: null"
t_is "$(api -X POST "${AUTH[@]}" "$A/api/vip/fault?instance=VI%5F2&x=1")" '{"vip":"fault","instance":"VI_2"}' \
	"the instance percent-decoded, other parameters ignored"
t_is "$(code -X POST "${AUTH[@]}" "$A/api/vip/stop?instance=$(printf 'i%.0s' $(seq 64))")" 200 "stop, an instance of 64 bytes: 200"
out=$(api -X POST "${AUTH[@]}" -w ' %{http_code}' "$A/api/vip/primary" | tr -d '\n')
t_like "$out" '^\{"error":"[^"]+"\} 404$' "an unknown state: 404 with {\"error\":…}"
t_is "$(code -X POST "${AUTH[@]}" "$A/api/vip/MASTER")" 404 "states are lower case: MASTER is unknown"
t_is "$(code -X POST "${AUTH[@]}" "$A/api/vip/")" 404 "no state: 404"
t_is "$(code -X POST "${AUTH[@]}" "$A/api/vip/master/x")" 404 "more after the state: 404"
for bad in "$(printf 'i%.0s' $(seq 65))" "" "a%0Ab" "a%7F" "%C3%A9" "a%2" "a%zz"; do
	out=$(api -X POST "${AUTH[@]}" -w ' %{http_code}' "$A/api/vip/master?instance=$bad" | tr -d '\n')
	t_like "$out" '^\{"error":"instance: [^"]+"\} 400$' "a bad instance ($bad): 400 with {\"error\":…}"
done
t_is "$(vip_events | grep -c .)" 4 "four vip_changed events: one per accepted POST"
ev=$(vip_events master)
t_like "$ev" '"reason": "keepalived: VRRP instance VI_1 is now MASTER on lb-a"' "vip_changed master: the reason names the instance and the appliance"
t_like "$ev" '"appliance": "lb-a"' "the appliance"
t_ok "no node: it is cluster-wide" bash -c "! grep -q '\"node\"' <<<'$ev'"
t_like "$(vip_events backup)" '"reason": "keepalived: now BACKUP on lb-a"' "vip_changed backup without an instance: its reason"
t_ok "the id's time is when it was raised (its evidence)" $PY -c '
import json, sys, datetime
e = json.loads(sys.argv[1])
b32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ms = 0
for ch in e["id"][:10]:
    ms = ms * 32 + b32.index(ch)
t = datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
assert ms == round(t.timestamp() * 1000), (ms, e["time"])' "$ev"
t_ok "the ids of the four differ" test "$(vip_events | $PY -c 'import json,sys; print(len({json.loads(l)["id"] for l in sys.stdin}))')" = 4
# posted STATE: the vip_changed bodies the receiver got (of STATE)
posted() {
	[ -f "$T/hook.jsonl" ] || return 0
	$PY - "$T/hook.jsonl" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    b = json.loads(json.loads(line)["body"])
    if b.get("event") == "vip_changed" and b.get("state") == sys.argv[2]:
        print(json.dumps(b, sort_keys=True))
PY
}
has_posted() { [ -n "$(posted "$1")" ]; }
t_wait 5 "the webhook receiver got vip_changed master" has_posted master
t_is "$(posted master)" "$ev" "the same event as in the log"
others_posted() { has_posted backup && has_posted fault && has_posted stop; }
t_wait 5 "and the other three" others_posted

# ---------------------------------------------------------------- metrics
api "$A/metrics" >"$T/metrics.txt"
cat >"$T/promcheck.py" <<'PY'
# A strict reader of the Prometheus text format (0.0.4): every sample
# belongs to a family announced by HELP and TYPE, names and labels are
# well formed, values are numbers, no family appears twice.
import re, sys
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label_re = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
sample = re.compile(r"^(%s)(\{(%s(,%s)*)?\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$" % (name_re, label_re, label_re))
helps, types, seen, families = {}, {}, set(), set()
cur = None
for i, line in enumerate(open(sys.argv[1]), 1):
    line = line.rstrip("\n")
    if line.startswith("# HELP "):
        name = line.split(" ", 3)[2]
        assert name not in helps, "line %d: HELP %s twice" % (i, name)
        helps[name] = True
        cur = name
        continue
    if line.startswith("# TYPE "):
        _, _, name, typ = line.split(" ")
        assert typ in ("counter", "gauge", "histogram", "summary", "untyped"), line
        assert name == cur, "line %d: TYPE for %s after HELP for %s" % (i, name, cur)
        types[name] = typ
        continue
    assert line and not line.startswith("#"), "line %d: %r" % (i, line)
    m = sample.match(line)
    assert m, "line %d: not a sample: %r" % (i, line)
    name = m.group(1)
    assert name == cur, "line %d: %s outside its family (%s)" % (i, name, cur)
    if types[name] == "counter":
        assert name.endswith("_total"), "line %d: counter %s without _total" % (i, name)
    assert line not in seen, "line %d: duplicate sample" % i
    seen.add(line)
    families.add(name)
for f in sys.argv[2:]:
    assert f in families or f in helps, "family %s missing" % f
print("ok %d samples, %d families" % (len(seen), len(helps)))
PY
t_ok "/metrics is valid Prometheus text, with the required families" \
	$PY "$T/promcheck.py" "$T/metrics.txt" vigil_node_state vigil_node_active \
	vigil_node_heartbeat_age_seconds vigil_node_probe_latency_seconds \
	vigil_requests_total vigil_node_connections vigil_node_retries_total \
	vigil_node_ejections_total vigil_failovers_total vigil_events_total \
	vigil_notifications_total vigil_spool_backlog vigil_hook_runs_total \
	vigil_process_start_time_seconds vigil_build_info vigil_leader
t_ok "vigil_node_state: 1 for a's current state" grep -qx 'vigil_node_state{node="a",state="running"} 1' "$T/metrics.txt"
t_ok "vigil_node_state: 0 for the others" grep -qx 'vigil_node_state{node="a",state="shut_down"} 0' "$T/metrics.txt"
t_ok "requests by node and code" grep -qE '^vigil_requests_total\{node="[ab]",code="200"\} [1-9][0-9]*$' "$T/metrics.txt"
t_ok "vigil_node_heartbeat_age_seconds per node" grep -qE '^vigil_node_heartbeat_age_seconds\{node="a"\} [0-9.e+-]+$' "$T/metrics.txt"
t_ok "events by type" grep -qE '^vigil_events_total\{event="failover"\} [0-9]+$' "$T/metrics.txt"
t_ok "no secret in the metrics or the status" bash -c "! curl -s $A/metrics $A/api/status $A/ | grep -q adm1n"

# ---------------------------------------------------------------- reload
t_is "$(api -X POST "${AUTH[@]}" "$A/api/reload")" '{"reloaded":true}' "POST /api/reload: reloaded"
t_wait 5 "config_reloaded raised" grep -q '"event":"config_reloaded"' "$T/spool/events.log"
cp "$T/vigil.conf" "$T/vigil.conf.good"
echo 'bogus = ;' >>"$T/vigil.conf"
out=$(api -X POST "${AUTH[@]}" -w ' %{http_code}' "$A/api/reload")
t_like "$out" '^\{"reloaded":false,"errors":\[".*vigil.conf:[0-9]+: ' "a broken file: the errors with FILE:LINE"
t_like "$out" ' 422$' "and 422"
t_is "$(code "$A/api/status")" 200 "vigil still answers on the previous configuration"
cp "$T/vigil.conf.good" "$T/vigil.conf"

# ---------------------------------------------------------------- hostile input
# The admin listener reads requests with the proxy's strict parser: a
# malformed or ambiguous head is refused before any route or token check.
raw() { http_raw "$APORT" "$1"; }
tok=$(cat "$T/token")
t_like "$(raw 'GET /api/status HTTP/1.1\r\n\r\n')" '^HTTP/1.1 400' "HTTP/1.1 without Host: 400"
t_like "$(raw 'GET /api/status HTTP/1.1\nHost: x\n\n')" '^HTTP/1.1 400' "bare LF line ends: 400"
t_like "$(raw 'GET /api/status HTTP/2.0\r\nHost: x\r\n\r\n')" '^HTTP/1.1 505' "HTTP/2.0: 505"
t_like "$(raw "POST /api/nodes/a/drain HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\r\n $tok\r\n\r\n")" \
	'^HTTP/1.1 400' "a token folded onto a second line (obs-fold): 400, not accepted"
t_like "$(raw "POST /api/nodes/a/drain HTTP/1.1\r\nHost: x\r\nAuthorization : Bearer $tok\r\n\r\n")" \
	'^HTTP/1.1 400' "a space before the colon: 400"
t_like "$(raw "POST /api/nodes/a/drain HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\nAuthorization: Bearer $tok\r\n\r\n")" \
	'^HTTP/1.1 400' "Content-Length with Transfer-Encoding: 400"
t_wait 5 "and a is still running: none of them drained it" state_is a running

# ---------------------------------------------------------------- a burst
# 100 connections that send nothing: vigil serves 32 at once, the rest
# wait in the backlog, and an operator's request is answered once the idle
# ones time out (5 s).
bg idle $PY -c '
import socket, sys, time
conns = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(100)]
open(sys.argv[2], "w").write("%d\n" % len(conns))
time.sleep(30)' "$APORT" "$T/idle.count"
t_wait 10 "100 idle connections to the admin port" test -s "$T/idle.count"
sleep 0.5
held=$(ls -l "/proc/$VIGIL_PID/fd" | grep -c socket)
t_ok "vigil holds at most 32 of them (and its own sockets): $held sockets" test "$held" -le 60
t_is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$A/api/status")" 200 \
	"an operator's request is still answered"
_t_stop_pid "$BG_PID" TERM 5

# ---------------------------------------------------------------- no token_file
vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly (exit 0)"
write_conf ""
vigil_start "$T/vigil.conf"
t_wait 10 "vigil is back" bash -c "curl -sf $A/api/status -o /dev/null"
t_is "$(code -X POST "${AUTH[@]}" "$A/api/nodes/a/disable")" 403 "no token_file: every POST is refused (403)"
t_is "$(code -X POST "${AUTH[@]}" "$A/api/vip/master")" 403 "POST /api/vip/master too (403)"
t_like "$(api -X POST "$A/api/reload")" 'no admin.token_file' "and says why"
t_wait 5 "a still running" state_is a running

vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly (exit 0)"
t_done
