#!/usr/bin/env bash
# tests/integration/hooks-scripts.sh: the example scripts in etc/hooks/, run
# as vigil runs them (env -i, PATH only): restart-vro against a vigil-sim
# with a Control Center, restart-systemd with a fake ssh that records its
# arguments, page-oncall against tests/integration/receiver.py. Everything on
# 127.0.0.1; a fake curl (first in PATH) shows what would go elsewhere.
# shellcheck disable=SC2317 # the helpers run through t_ok and t_wait

. "$top_srcdir/tests/integration/lib.sh"

HOOKS=$top_srcdir/etc/hooks
RECEIVER=$top_srcdir/tests/integration/receiver.py
if [ ! -x "$top_builddir/tests/sim/vigil-sim" ]; then
	t_skip_all "tests/sim/vigil-sim is not built"
fi
command -v curl >/dev/null || t_skip_all "curl is not installed"
[ -n "$_T_PY" ] || t_skip_all "python3 is not installed"

# What vigil passes to hooks (docs/SPEC.md, "Restart hooks").
VIGIL_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HOOK_PATH=$VIGIL_PATH
HOOK_ENV=()
HOOK_IN=/dev/null

# run_hook NAME ARGS...: etc/hooks/NAME with only PATH=$HOOK_PATH and
# HOOK_ENV in its environment, stdin from $HOOK_IN; stdout in $T/out, stderr
# in $T/err, exit status in $RC.
run_hook() {
	local name=$1
	shift
	RC=0
	env -i PATH="$HOOK_PATH" "${HOOK_ENV[@]}" timeout -k 2 60 "$HOOKS/$name" "$@" \
		<"$HOOK_IN" >"$T/out" 2>"$T/err" || RC=$?
	{
		echo "--- $name $* (exit $RC)"
		cat "$T/out" "$T/err"
	} >&2
}
out() { cat "$T/out"; }
err() { cat "$T/err"; }
now_ms() { echo $((${EPOCHREALTIME//[!0-9]/} / 1000)); }

# A curl that records its arguments (one a line) and its stdin, and answers
# like a Control Center that is RUNNING.
mkdir "$T/fakebin"
cat >"$T/fakebin/curl" <<EOF
#!/bin/sh
{ printf '%s\n' "\$@"; echo ----; } >>"$T/curl.argv"
cat >>"$T/curl.stdin"
printf '{"currentStatus":"RUNNING"}\n200'
EOF
chmod +x "$T/fakebin/curl"

# ================================================================ restart-vro

CC_USER=vroadmin
CC_PASS='Pa55 "w0rd"\x:y'
CC_PORT=$(free_port)
t_ok "sim n1 with a Control Center" \
	sim_start n1 running --startup-ms 300 --cc-port "$CC_PORT" --cc-credentials "$CC_USER:$CC_PASS"
printf '%s:%s\n' "$CC_USER" "$CC_PASS" >"$T/cc.cred"
chmod 600 "$T/cc.cred"
printf '%s:wrong\n' "$CC_USER" >"$T/cc-wrong.cred"
chmod 600 "$T/cc-wrong.cred"
cp "$T/cc.cred" "$T/cc-open.cred"
chmod 644 "$T/cc-open.cred"

HOOK_ENV=(VIGIL_EVENT=restart VIGIL_CLUSTER=vro-test VIGIL_NODE=n1
	"VIGIL_NODE_ADDRESS=127.0.0.1:$(sim_port n1)" "VIGIL_REASON=missed 12 heartbeats"
	VIGIL_ATTEMPT=1 VIGIL_HEARTBEAT_AGE_MS=61300)
VRO=(--scheme http --port "$CC_PORT" --interval 0.2 --wait 10 --settle 3 --timeout 5)
health_state() { curl -s --max-time 5 "http://127.0.0.1:$(sim_port "$1")/vco/api/healthstatus" | sed -n 's/^{"state":"\([A-Z]*\)".*/\1/p'; }

run_hook restart-vro --help
t_is "$RC" 0 "restart-vro --help: exit 0"
t_like "$(out)" 'VIGIL_NODE_ADDRESS' "... documents its environment"
t_like "$(out)" '--credentials FILE' "... and its options"

run_hook restart-vro "${VRO[@]}"
t_is "$RC" 2 "restart-vro without --credentials: exit 2"
t_like "$(err)" '^restart-vro: --credentials FILE is required$' "... saying so"

t_is "$(simctl n1 shutdown)" "ok state=SHUTDOWN" "n1 is shut down"
t0=$(now_ms)
run_hook restart-vro --credentials "$T/cc.cred" "${VRO[@]}"
t_is "$RC" 0 "restart-vro with the right credentials: exit 0"
t_is "$(simctl n1 status)" "ok state=RUNNING heartbeat=off listening=yes drops=0" \
	"... once the node is back (simctl status)"
t_is "$(health_state n1)" RUNNING "... and serving (healthstatus)"
t_ok "... after its start-up of 300 ms" test $(($(now_ms) - t0)) -ge 300
t_is "$(simctl n1 cc-status)" "ok cc=RUNNING restarts=1 cc-fail=off" "one restart asked for"
t_like "$(out)" 'n1 is RUNNING again' "restart-vro says so"
t_ok "the password is printed nowhere" ! grep -qF "$CC_PASS" "$T/out" "$T/err"

run_hook restart-vro --credentials "$T/cc-wrong.cred" "${VRO[@]}"
t_is "$RC" 1 "wrong credentials: exit 1"
t_like "$(err)" "HTTP 401: the Control Center refused the credentials of $CC_USER in $T/cc-wrong.cred" \
	"... with a clear message"
t_ok "... without the password" ! grep -qF wrong "$T/out"
t_is "$(simctl n1 cc-status)" "ok cc=RUNNING restarts=1 cc-fail=off" "... and no restart"

run_hook restart-vro --credentials "$T/cc-open.cred" "${VRO[@]}"
t_is "$RC" 1 "a world-readable credentials file: exit 1"
t_like "$(err)" 'is accessible to every user: refusing it \(chmod 600 ' "... refused, saying why"
t_is "$(simctl n1 cc-status)" "ok cc=RUNNING restarts=1 cc-fail=off" "... before anything was asked"

run_hook restart-vro --credentials "$T/nothing.cred" "${VRO[@]}"
t_is "$RC" 1 "a missing credentials file: exit 1"
t_like "$(err)" 'nothing.cred: not a file' "... saying so"

t_is "$(simctl n1 cc-fail on)" "ok cc-fail=on" "cc-fail on"
run_hook restart-vro --credentials "$T/cc.cred" "${VRO[@]}"
t_is "$RC" 1 "the Control Center answers 500: exit 1"
t_like "$(err)" 'HTTP 500: the restart was refused' "... with the status"
simctl n1 cc-fail off >/dev/null

run_hook restart-vro --credentials "$T/cc.cred" --scheme http --port "$(free_port)" --wait 2
t_is "$RC" 1 "no Control Center on the port: exit 1"
t_like "$(err)" 'no answer \(curl exit 7\): is the Control Center running' "... saying so"

CC2_PORT=$(free_port)
t_ok "sim n2: the server stays stopped for 5 s after a restart" \
	sim_start n2 running --cc-port "$CC2_PORT" --cc-restart-delay-ms 5000
t0=$(now_ms)
HOOK_ENV+=(VIGIL_NODE=n2 "VIGIL_NODE_ADDRESS=127.0.0.1:$(sim_port n2)")
run_hook restart-vro --credentials "$T/cc.cred" --scheme http --port "$CC2_PORT" --interval 0.2 --wait 1
t_is "$RC" 1 "not RUNNING within --wait 1: exit 1"
t_like "$(err)" 'n2 is not RUNNING 1 s after the restart was asked for \(last: currentStatus STOPPED\)' \
	"... with the last status seen"
t_ok "... in time (under 4 s)" test $(($(now_ms) - t0)) -lt 4000

for v in --port=1 "--scheme ftp" "--port 0" "--wait x" "--interval 1s" "--bogus"; do
	# shellcheck disable=SC2086 # split on purpose
	run_hook restart-vro --credentials "$T/cc.cred" $v
	t_is "$RC" 2 "restart-vro $v: exit 2"
done

# The fake curl: what goes to a real node over HTTPS.
HOOK_PATH=$T/fakebin:$VIGIL_PATH
HOOK_ENV=("VIGIL_NODE_ADDRESS=[fd00::5]:8281" VIGIL_NODE=vro-6)
touch "$T/ca.pem"
run_hook restart-vro --credentials "$T/cc.cred" --cacert "$T/ca.pem" --settle 0 --interval 0.1
t_is "$RC" 0 "restart-vro, IPv6 node, defaults (fake curl)"
t_like "$(cat "$T/curl.argv")" '^https://\[fd00::5\]:8283/vco-controlcenter/api/server/status/restart$' \
	"POST https://[v6]:8283/…/restart"
t_like "$(cat "$T/curl.argv")" '^https://\[fd00::5\]:8283/vco-controlcenter/api/server/status$' \
	"then GET …/status"
t_like "$(tr '\n' ' ' <"$T/curl.argv")" "--cacert $T/ca.pem .*--globoff .*--request POST" "--cacert and --globoff are passed"
t_ok "no --insecure unless asked for" ! grep -qx -- --insecure "$T/curl.argv"
t_ok "the password is not in curl's arguments" ! grep -qF 'w0rd' "$T/curl.argv"
t_like "$(head -n 1 "$T/curl.stdin")" '^user = "vroadmin:Pa55 \\"w0rd\\"\\\\x:y"$' \
	"it is in the config curl reads on stdin, escaped"
rm -f "$T/curl.argv" "$T/curl.stdin"
HOOK_ENV=(VIGIL_NODE_ADDRESS=vro-7.example:8281)
run_hook restart-vro --credentials "$T/cc.cred" --insecure --settle 0
t_is "$RC" 0 "restart-vro, a host name (fake curl)"
t_like "$(cat "$T/curl.argv")" '^https://vro-7\.example:8283/vco-controlcenter/api/server/status/restart$' \
	"the host part of VIGIL_NODE_ADDRESS"
t_ok "--insecure is passed" grep -qx -- --insecure "$T/curl.argv"
HOOK_ENV=("VIGIL_NODE_ADDRESS=-K/etc/passwd:8281")
run_hook restart-vro --credentials "$T/cc.cred"
t_is "$RC" 2 "a host that looks like an option: exit 2"
HOOK_ENV=()
run_hook restart-vro --credentials "$T/cc.cred"
t_is "$RC" 2 "no VIGIL_NODE_ADDRESS: exit 2"
t_like "$(err)" 'VIGIL_NODE_ADDRESS is not set' "... saying so"
HOOK_PATH=$VIGIL_PATH

# ================================================================ restart-systemd

for f in ok fail remote; do
	{
		echo '#!/bin/sh'
		printf '%s\n' "printf '%s\\n' \"\$@\" >\"$T/ssh.argv\""
		case $f in
		ok) echo 'exit 0' ;;
		fail) echo 'echo "ssh: connect to host x port 22: Connection refused" >&2; exit 255' ;;
		remote) echo 'echo "Failed to restart x.service: Unit x.service not found." >&2; exit 5' ;;
		esac
	} >"$T/ssh-$f"
	chmod +x "$T/ssh-$f"
done
ssh_argv() { tr '\n' ' ' <"$T/ssh.argv" | sed 's/ $//'; }
touch "$T/id_ed25519" "$T/known_hosts"
HOOK_ENV=(VIGIL_EVENT=restart VIGIL_CLUSTER=vro-test VIGIL_NODE=n1
	VIGIL_NODE_ADDRESS=127.0.0.1:8281 "VIGIL_REASON=missed 12 heartbeats"
	VIGIL_ATTEMPT=2 VIGIL_HEARTBEAT_AGE_MS=61300)

run_hook restart-systemd --help
t_is "$RC" 0 "restart-systemd --help: exit 0"
t_like "$(out)" '--unit UNIT' "... documents its options"

run_hook restart-systemd --unit vco-server.service --user vigil --identity "$T/id_ed25519" --ssh "$T/ssh-ok"
t_is "$RC" 0 "restart-systemd: exit 0 when ssh does"
t_is "$(ssh_argv)" "-o BatchMode=yes -o ConnectTimeout=10 -o StrictHostKeyChecking=yes -o ServerAliveInterval=15 -o ServerAliveCountMax=3 -l vigil -i $T/id_ed25519 -o IdentitiesOnly=yes -- 127.0.0.1 systemctl restart vco-server.service" \
	"ssh's arguments: batch mode, strict host keys, user, key, host, command"
t_like "$(out)" 'restarting vco-server.service on n1 at 127.0.0.1 \(missed 12 heartbeats; attempt 2\)' "it says what it does"

HOOK_ENV+=("VIGIL_NODE_ADDRESS=[fd00::5]:8281")
run_hook restart-systemd --unit vco-server.service --sudo --ssh-port 2222 --accept-new-host-keys \
	--known-hosts "$T/known_hosts" --connect-timeout 3 --ssh "$T/ssh-ok"
t_is "$RC" 0 "restart-systemd with every option"
t_is "$(ssh_argv)" "-o BatchMode=yes -o ConnectTimeout=3 -o StrictHostKeyChecking=accept-new -o ServerAliveInterval=15 -o ServerAliveCountMax=3 -o UserKnownHostsFile=$T/known_hosts -p 2222 -- fd00::5 sudo -n systemctl restart vco-server.service" \
	"ssh's arguments: [v6]:port → v6, sudo, port, known hosts, accept-new"

run_hook restart-systemd --unit vco-server.service --host node-7.example --ssh "$T/ssh-ok -F $T/ssh_config"
t_is "$RC" 0 "--host and an --ssh with arguments"
t_like "$(ssh_argv)" "^-F $T/ssh_config -o BatchMode=yes .* -- node-7\\.example systemctl restart vco-server\\.service$" \
	"--ssh is split at blanks; --host wins"

run_hook restart-systemd --unit vco-server.service --ssh "$T/ssh-fail"
t_is "$RC" 1 "ssh fails (255): exit 1"
t_like "$(err)" 'Connection refused' "... ssh's own message is kept"
t_like "$(err)" '^restart-systemd: ssh to fd00::5 failed \(exit 255' "... and explained"

run_hook restart-systemd --unit x.service --ssh "$T/ssh-remote"
t_is "$RC" 1 "systemctl fails on the node: exit 1"
t_like "$(err)" '^restart-systemd: "systemctl restart x\.service" failed on fd00::5 \(exit 5\)$' "... saying which command"

run_hook restart-systemd --unit x.service --ssh "$T/nothing-here"
t_is "$RC" 1 "an --ssh that cannot run: exit 1"
t_like "$(err)" 'cannot run' "... saying so"

rm -f "$T/ssh.argv"
run_hook restart-systemd --unit 'x.service;reboot' --ssh "$T/ssh-ok"
t_is "$RC" 2 "a unit name with a shell character: exit 2"
t_like "$(err)" 'is not a systemd unit name' "... saying so"
run_hook restart-systemd --unit -x --ssh "$T/ssh-ok"
t_is "$RC" 2 "a unit name like an option: exit 2"
run_hook restart-systemd --ssh "$T/ssh-ok"
t_is "$RC" 2 "no --unit: exit 2"
HOOK_ENV=("VIGIL_NODE_ADDRESS=-oProxyCommand=touch:8281")
run_hook restart-systemd --unit x.service --ssh "$T/ssh-ok"
t_is "$RC" 2 "a host like an ssh option: exit 2"
HOOK_ENV=()
run_hook restart-systemd --unit x.service --ssh "$T/ssh-ok"
t_is "$RC" 2 "no VIGIL_NODE_ADDRESS and no --host: exit 2"
t_ok "ssh ran for none of these" test ! -e "$T/ssh.argv"

# ================================================================ receiver.py

declare -A RPORT=()
# receiver NAME ARGS...: receiver.py on a free port, requests in $T/NAME.jsonl
receiver() {
	local name=$1 port
	shift
	port=$(free_port) || return 1
	RPORT[$name]=$port
	bg "receiver-$name" "$_T_PY" "$RECEIVER" --port "$port" --out "$T/$name.jsonl" "$@"
	wait_for 10 port_open "$port"
}
lines() { if [ -e "$T/$1.jsonl" ]; then wc -l <"$T/$1.jsonl"; else echo 0; fi; }
# req NAME N EXPR: a Python expression of the Nth request r (and b, its body
# as JSON, when it is JSON)
req() {
	"$_T_PY" - "$T/$1.jsonl" "$2" "$3" <<'EOF'
import json, sys
r = json.loads(open(sys.argv[1], encoding="utf-8").read().splitlines()[int(sys.argv[2]) - 1])
try:
    b = json.loads(r["body"])
except ValueError:
    b = None
v = eval(sys.argv[3])
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True))
EOF
}

t_ok "receiver.py answering 500, 500, then 202" receiver seq --status-seq 500,500,202
url() { echo "http://127.0.0.1:${RPORT[$1]}$2"; }
codes=
for _ in 1 2 3 4; do
	codes+="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$(url seq /r)") "
done
t_is "$codes" "500 500 202 202 " "receiver.py: statuses in turn, the last one repeats"
curl -s -o /dev/null --max-time 5 -H 'Transfer-Encoding: chunked' -H 'X-Test: 1' \
	--data-binary 'hello chunks' "$(url seq '/p?q=1')"
t_is "$(req seq 5 'r["method"] + " " + r["path"] + " " + r["body"] + " " + r["headers"]["X-Test"]')" \
	"POST /p?q=1 hello chunks 1" "receiver.py: method, path, de-chunked body, headers"
t_is "$(req seq 5 '[r["n"], r["status"]]')" "[5, 202]" "receiver.py: number and status of each request"

# ================================================================ page-oncall

KEY=R0123456789abcdef0123456789abcdef
printf '%s\n' "$KEY" >"$T/pd.key"
chmod 600 "$T/pd.key"
cp "$T/pd.key" "$T/pd-open.key"
chmod 604 "$T/pd-open.key"
EV_FAILOVER='{"id":"01JDQ7TX4S3V1KB7ZJ3W4N5P6Q","time":"2026-11-23T10:15:02.113Z","event":"failover","cluster":"vro-prod","node":"vro-1","from":"vro-1","to":"vro-2","state":"shut_down","reason":"missed 12 heartbeats (last 61.3 s ago) and REST probe failed 3 times","appliance":"lb-1"}'
EV_UP='{"id":"01JDQ7V0000000000000000001","time":"2026-11-23T10:16:00.000Z","event":"node_up","cluster":"vro-prod","node":"vro-1","state":"running","appliance":"lb-1"}'
EV_ODD='{"id":"01JDQ7V0000000000000000002", "time":"2026-11-23T10:17:00.000Z", "event":"all_down", "cluster":"vro-prod",
 "reason":"probe said \"Bad \\ Gateway\" \u2014 caf\u00e9, déjà vu\ttab", "dry_run":false, "appliance":"lb-1"}'
echo "$EV_FAILOVER" >"$T/ev-failover.json"
echo "$EV_UP" >"$T/ev-up.json"
echo "$EV_ODD" >"$T/ev-odd.json"
echo 'this is not JSON' >"$T/ev-bad.json"
echo '{"event":"failover","cluster":"vro-prod"}' >"$T/ev-noid.json"

t_ok "receiver.py answering 202" receiver pd --status-seq 202
PD=(--url "$(url pd /v2/enqueue)" --routing-key-file "$T/pd.key" --timeout 5)
HOOK_ENV=()

run_hook page-oncall --help
t_is "$RC" 0 "page-oncall --help: exit 0"
t_like "$(out)" '--routing-key-file FILE' "... documents its options"
t_like "$(out)" 'dedup_key' "... and what it posts"

HOOK_IN=$T/ev-failover.json
run_hook page-oncall "${PD[@]}"
t_is "$RC" 0 "a failover pages: exit 0"
t_is "$(lines pd)" 1 "... one POST"
t_is "$(req pd 1 'r["method"] + " " + r["path"] + " " + r["headers"]["Content-Type"]')" \
	"POST /v2/enqueue application/json" "... of JSON to the URL"
t_is "$(req pd 1 'b["dedup_key"]')" 01JDQ7TX4S3V1KB7ZJ3W4N5P6Q "dedup_key is the event's id"
t_is "$(req pd 1 'b["routing_key"] + " " + b["event_action"]')" "$KEY trigger" "routing key from the file, trigger"
t_is "$(req pd 1 'b["payload"]["summary"]')" \
	"[vigil vro-prod] failover: vro-1 → vro-2 — missed 12 heartbeats (last 61.3 s ago) and REST probe failed 3 times" \
	"summary: cluster, from → to, reason"
t_is "$(req pd 1 '[b["payload"][k] for k in ("source", "severity", "timestamp", "component", "group", "class")]')" \
	'["lb-1", "error", "2026-11-23T10:15:02.113Z", "vro-1", "vro-prod", "failover"]' \
	"source, severity, timestamp, component, group, class"
t_is "$(req pd 1 'b["payload"]["custom_details"]')" "$("$_T_PY" -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]), sort_keys=True))' "$EV_FAILOVER")" \
	"custom_details: the whole event"

HOOK_IN=$T/ev-up.json
run_hook page-oncall "${PD[@]}"
t_is "$RC" 0 "node_up (not in the default --events): exit 0"
t_is "$(lines pd)" 1 "... without a page"
t_like "$(out)" 'node_up 01JDQ7V0000000000000000001: not an event that pages' "... saying so"
run_hook page-oncall "${PD[@]}" --events node_up,failover
t_is "$RC" 0 "--events node_up,failover: node_up pages"
t_is "$(req pd 2 '[b["payload"]["summary"], b["payload"]["severity"]]')" \
	'["[vigil vro-prod] node_up: vro-1 (running)", "info"]' "summary of a node event: node (state)"

HOOK_IN=$T/ev-odd.json
run_hook page-oncall "${PD[@]}" --parser python3
t_is "$RC" 0 "all_down with quotes, backslashes and Unicode: --parser python3"
run_hook page-oncall "${PD[@]}" --parser sed
t_is "$RC" 0 "... --parser sed"
t_is "$(req pd 3 'b["payload"]["summary"]')" $'[vigil vro-prod] all_down — probe said "Bad \\ Gateway" — café, déjà vu\ttab' \
	"summary of an event without a node"
t_is "$(req pd 3 'b["payload"]["severity"]')" critical "all_down is critical"
t_is "$(req pd 4 'b')" "$(req pd 3 'b')" "the sed parser posts the same JSON as python3"

t_ok "receiver.py answering 500" receiver down --status-seq 500
HOOK_IN=$T/ev-failover.json
run_hook page-oncall --url "$(url down /v2/enqueue)" --routing-key-file "$T/pd.key"
t_is "$RC" 1 "the server answers 500: exit 1 (vigil tries again)"
t_like "$(err)" 'HTTP 500: the page was refused' "... saying so"
t_is "$(lines down)" 1 "... after one POST"

t_ok "receiver.py answering 503, then 202" receiver retry --status-seq 503,202
run_hook page-oncall --url "$(url retry /)" --routing-key-file "$T/pd.key"
t_is "$RC" 1 "first try refused: exit 1"
run_hook page-oncall --url "$(url retry /)" --routing-key-file "$T/pd.key"
t_is "$RC" 0 "vigil's retry: exit 0"
t_is "$(req retry 2 'b["dedup_key"]')" "$(req retry 1 'b["dedup_key"]')" "both tries carry the same dedup_key"

t_ok "receiver.py answering after 5 s" receiver slow --delay-ms 5000
t0=$(now_ms)
run_hook page-oncall --url "$(url slow /)" --routing-key-file "$T/pd.key" --timeout 1
t_is "$RC" 1 "no answer within --timeout 1: exit 1"
t_like "$(err)" 'no answer \(curl exit 28\)' "... saying so"
t_ok "... in time (under 3 s)" test $(($(now_ms) - t0)) -lt 3000

run_hook page-oncall --url "http://127.0.0.1:$(free_port)/" --routing-key-file "$T/pd.key"
t_is "$RC" 1 "nobody listening: exit 1"

n=$(lines pd)
run_hook page-oncall --url "$(url pd /v2/enqueue)" --routing-key-file "$T/pd-open.key"
t_is "$RC" 1 "a world-readable routing key file: exit 1"
t_like "$(err)" 'is accessible to every user: refusing it' "... refused, saying why"
HOOK_IN=$T/ev-bad.json
run_hook page-oncall "${PD[@]}"
t_is "$RC" 2 "input that is not JSON: exit 2"
t_like "$(err)" 'the input is not JSON' "... saying so"
run_hook page-oncall "${PD[@]}" --parser sed
t_is "$RC" 2 "... with --parser sed too"
t_like "$(err)" 'the input is not a JSON object' "... saying so"
HOOK_IN=$T/ev-noid.json
run_hook page-oncall "${PD[@]}"
t_is "$RC" 2 "an event without an id: exit 2"
t_like "$(err)" 'the event has no "id"' "... saying so"
run_hook page-oncall "${PD[@]}" --parser sed
t_is "$RC" 2 "... with --parser sed too"
HOOK_IN=/dev/null
run_hook page-oncall "${PD[@]}"
t_is "$RC" 2 "no input: exit 2"
HOOK_IN=$T/ev-failover.json
run_hook page-oncall "${PD[@]}" --events failover,nodedown
t_is "$RC" 2 "an unknown event in --events: exit 2"
t_like "$(err)" 'unknown event "nodedown"' "... saying which"
run_hook page-oncall --routing-key-file "$T/pd.key"
t_is "$RC" 2 "no --url: exit 2"
t_is "$(lines pd)" "$n" "none of these posted anything"

HOOK_PATH=$T/fakebin:$VIGIL_PATH
rm -f "$T/curl.argv" "$T/curl.stdin"
run_hook page-oncall --url https://events.example/v2/enqueue --routing-key-file "$T/pd.key" --cacert "$T/ca.pem"
t_is "$RC" 0 "page-oncall over HTTPS (fake curl)"
t_like "$(tr '\n' ' ' <"$T/curl.argv")" "--cacert $T/ca.pem .*--data-binary @- .*https://events\\.example/v2/enqueue" \
	"the body goes on curl's stdin, --cacert is passed"
t_ok "the routing key is not in curl's arguments" ! grep -qF "$KEY" "$T/curl.argv"
t_like "$(cat "$T/curl.stdin")" "\"routing_key\":\"$KEY\"" "... it is in the body"
HOOK_PATH=$VIGIL_PATH

t_done
