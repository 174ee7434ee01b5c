#!/usr/bin/env bash
# vigilctl.sh: the operator's client (SPEC.md "Command line", "Admin
# interface") against a real vigil, PostgreSQL and two simulated nodes:
# status, nodes and JSON; events after a failover, and followed as they
# happen; drain, disable, enable, reload and vip with the token from
# admin.token_file; keepalived's scripts in etc/keepalived/ (vigil-notify
# through vigilctl vip, vigil-check); and every failure with its own
# message and exit status (wrong token, no token_file in vigil, vigil not
# running, token file missing, bad usage). The token never shows in any
# output.
# shellcheck disable=SC2317 # the helpers run through t_ok and t_wait
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/integration/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || t_skip_all "python3 is not installed"
pg_start || t_skip_all "no PostgreSQL server to test against"

CTL=$top_builddir/vigilctl
TIM=(--interval-ms 200 --failover-heartbeats 5 --startup-ms 500)
TOKEN=tok-$RANDOM$RANDOM-not-for-output
ADMIN=$(free_port)
CONF=$T/etc/vigil.conf

sim_start vro-1 running "${TIM[@]}" --priority 1 || t_bail "sim vro-1"
sim_start vro-2 standby "${TIM[@]}" --priority 2 || t_bail "sim vro-2"

mkdir -p "$T/etc"
(umask 077 && printf '%s\n' "$TOKEN" >"$T/etc/admin.token")
(umask 077 && printf 'not-the-token\n' >"$T/etc/wrong.token")
# The admin group comes through @include, relative to the configuration's
# folder, as vigil reads it; vigilctl runs from elsewhere (cd /).
admin_conf() { # [TOKEN_FILE]
	echo "admin = { address = \"127.0.0.1:$ADMIN\";${1:+ token_file = \"$1\";} };"
}
admin_conf "$T/etc/admin.token" >"$T/etc/admin.inc"
cat >"$CONF" <<CONF
vigil = { name = "lb-t"; spool_dir = "$T/spool"; };
listen = ( { address = "127.0.0.1:$(free_port)"; } );
cluster = { name = "c"; nodes = (
  { name = "vro-1"; address = "127.0.0.1:$(sim_port vro-1)"; priority = 1; },
  { name = "vro-2"; address = "127.0.0.1:$(sim_port vro-2)"; priority = 2; } ); };
health = {
  probe = { interval_ms = 200; timeout_ms = 200; rise = 2; fall = 3;
            standby = "\"state\"\\\\s*:\\\\s*\"STANDBY\""; };
  heartbeat = { conninfo = "$PG_CONNINFO"; interval_ms = 200; failover_heartbeats = 5; };
};
@include "admin.inc"
CONF
vigil_start "$CONF"

# ctl ARGS...: vigilctl with the test's configuration, from another folder;
# stdout in $OUT, stderr in $ERR, exit status in $RC.
ctl() {
	RC=0
	(cd / && timeout 30 "$CTL" -c "$CONF" "$@") >"$T/out" 2>"$T/err" || RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	cat "$T/out" "$T/err" >>"$T/all-output"
}
# (ctl itself always returns 0: a wait needs RC)
answers() { ctl status && [ "$RC" = 0 ]; }
nodes_line() { ctl nodes && grep -Eq "^$1 +$2 +$3\$" <<<"$OUT"; }
# state NODE: the node's state in vigilctl -j status
state() {
	ctl -j status
	"$PY" -c 'import json,sys; d=json.load(sys.stdin); print([n["state"] for n in d["nodes"] if n["name"]==sys.argv[1]][0])' "$1" <<<"$OUT"
}
state_is() { [ "$(state "$1")" = "$2" ]; }

t_wait 15 "vigil's admin interface answers vigilctl" answers
t_wait 10 "nodes: vro-1 running and active" nodes_line vro-1 running yes
t_wait 5 "nodes: vro-2 standby, not active" nodes_line vro-2 standby no

# ---------------------------------------------------------------- reading
ctl status
t_is "$RC" 0 "status exits 0"
t_like "$OUT" "^cluster: c  appliance: lb-t \(leader\)  heartbeat database: up  active: vro-1" "status: the header line"
t_like "$OUT" "^NAME +STATE +ACTIVE +HEARTBEAT +PROBE +CONNS +REQUESTS +RESTART +WHY$" "status: the column heads"
t_like "$OUT" "^vro-1 +running +yes +fresh [0-9.]+s +running [0-9.]+ms +[0-9]+ +[0-9]+ +- +REST probe says RUNNING" "status: vro-1's row"
t_like "$OUT" "^vro-2 +standby +no +fresh " "status: vro-2's row"
t_ok "status: no colours when stdout is not a terminal" bash -c "! grep -q $'\e' '$T/out'"
t_ok "status: no banner while all is well" bash -c "! grep -Eq 'ALL DOWN|SPLIT BRAIN' '$T/out'"

ctl nodes
t_is "$(awk '{print $1, $2, $3}' <<<"$OUT")" $'vro-1 running yes\nvro-2 standby no' "nodes: NAME STATE ACTIVE, one per line"

ctl -j status
t_is "$RC" 0 "-j status exits 0"
t_ok "-j status is vigil's JSON" "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert sorted(n["name"] for n in d["nodes"]) == ["vro-1","vro-2"]' "$T/out"
ctl status -j
t_ok "-j after the command works too" "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out"

RC=0
OUT=$(cd / && timeout 30 "$CTL" -c "$T/etc/none.conf" -a "127.0.0.1:$ADMIN" nodes 2>&1) || RC=$?
t_is "$RC:$(wc -l <<<"$OUT")" "0:2" "-a is enough: the configuration is not read"

# ---------------------------------------------------------------- events
simctl vro-1 shutdown >/dev/null
t_wait 10 "vro-1 shut down: vro-2 takes over" nodes_line vro-2 running yes
t_wait 5 "vro-1 is shut_down" nodes_line vro-1 shut_down no
ctl status
t_like "$OUT" "^vro-1 +shut_down +no +stale " "status shows the stale heartbeat"

ctl events -n 5
t_is "$RC" 0 "events -n 5 exits 0"
t_like "$OUT" "^[0-9T:.-]+Z failover vro-1→vro-2 [a-z_-]+ " "events -n 5 shows the failover"
t_like "$OUT" "^[0-9T:.-]+Z node_down vro-1 (unreachable|shut_down) " "and vro-1's node_down"
t_ok "at most 5 lines" test "$(grep -c . <<<"$OUT")" -le 5
ctl events -n 5 -j
t_ok "events -j: one JSON object a line" "$PY" -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert 0 < len(lines) <= 5
assert any(json.loads(l)["event"] == "failover" for l in lines)' "$T/out"

# events -f prints an event as it happens: a reload raises config_reloaded.
(cd / && exec "$CTL" -c "$CONF" events -n 0 -f) >"$T/follow.out" 2>"$T/follow.err" &
FOLLOW=$!
on_exit bash -c "kill -KILL $FOLLOW 2>/dev/null || true"
sleep 1.5
kill -HUP "$VIGIL_PID"
t_wait 5 "events -f prints the new event (config_reloaded)" grep -q ' config_reloaded ' "$T/follow.out"
t_ok "events -n 0 -f printed nothing older" bash -c "! grep -q ' failover ' '$T/follow.out'"
kill -INT "$FOLLOW" 2>/dev/null
t_wait 5 "events -f ends on SIGINT" bash -c "! kill -0 $FOLLOW 2>/dev/null"
rc=0
kill -KILL "$FOLLOW" 2>/dev/null || true
wait "$FOLLOW" || rc=$?
t_is "$rc" 0 "with exit status 0"

# ---------------------------------------------------------------- acting
ctl drain vro-2
t_is "$RC" 0 "drain exits 0"
t_like "$OUT" "^vro-2 is draining" "drain says so in words"
t_wait 3 "/api/status shows vro-2 draining" state_is vro-2 draining
ctl disable vro-1
t_is "$RC:$OUT" "0:vro-1 is disabled: out of service until \`vigilctl enable vro-1\`" "disable"
t_wait 3 "vro-1 disabled" state_is vro-1 disabled
ctl enable vro-2
t_like "$RC:$OUT" "^0:vro-2 is enabled: back in service" "enable"
t_wait 3 "vro-2 back to running" state_is vro-2 running
ctl enable vro-1
t_is "$RC" 0 "enable vro-1"
t_wait 5 "vro-1 no longer disabled" bash -c "[ \"\$(cd / && '$CTL' -c '$CONF' nodes | awk '\$1 == \"vro-1\" {print \$2}')\" != disabled ]"
ctl drain vro-9
t_is "$RC:$ERR" "1:vigilctl: no node vro-9" "an unknown node: vigil's error, exit 1"

# ---------------------------------------------------------------- the VIP
ctl vip master VI_1
t_is "$RC:$OUT" "0:vip_changed raised: VRRP instance VI_1 is now master" "vip master VI_1"
ctl -j vip backup
t_is "$RC:$OUT" '0:{"vip":"backup","instance":null}' "-j vip backup: vigil's JSON, no instance"
ctl vip fault 'VI 3/x&y=z'
t_is "$RC:$OUT" "0:vip_changed raised: VRRP instance VI 3/x&y=z is now fault" "an instance with URL characters goes as it is"
ctl vip primary
t_is "$RC:$ERR" "1:vigilctl: the VRRP states are master, backup, fault and stop" "an unknown state: vigil's error, exit 1"
ctl vip master $'VI\t1'
t_like "$RC:$ERR" "^1:vigilctl: instance: " "an instance that is not printable: vigil's error, exit 1"
ctl events -n 20
t_like "$OUT" "^[0-9T:.-]+Z vip_changed - master keepalived: VRRP instance VI_1 is now MASTER on lb-t$" "events shows vip_changed, cluster-wide"
t_like "$OUT" " vip_changed - fault keepalived: VRRP instance VI 3/x&y=z is now FAULT on lb-t$" "with the instance as it was given"

# keepalived's notify script, run as keepalived runs it (its own options,
# then TYPE NAME STATE PRIORITY) with a bare environment.
notify() {
	RC=0
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin timeout 30 \
		"$top_srcdir/etc/keepalived/vigil-notify" --vigilctl "$CTL" -c "$CONF" "$@" \
		>"$T/out" 2>"$T/err" || RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	cat "$T/out" "$T/err" >>"$T/all-output"
}
last_vip() { # the last vip_changed's state and reason
	ctl -j events -n 1
	"$PY" -c 'import json,sys; e=json.loads(sys.stdin.read()); print(e["event"], e["state"], e["reason"])' <<<"$OUT"
}
notify INSTANCE VI_2 BACKUP 100
t_is "$RC:$OUT$ERR" "0:" "vigil-notify INSTANCE VI_2 BACKUP 100: exit 0, quiet"
t_is "$(last_vip)" "vip_changed backup keepalived: VRRP instance VI_2 is now BACKUP on lb-t" "vigil raised vip_changed backup for VI_2"
notify INSTANCE VI_2 MASTER 100
t_is "$RC:$(last_vip)" "0:vip_changed master keepalived: VRRP instance VI_2 is now MASTER on lb-t" "MASTER: master"
notify GROUP G_1 FAULT 0
t_is "$RC:$(last_vip)" "0:vip_changed fault keepalived: VRRP instance G_1 is now FAULT on lb-t" "a sync group's FAULT: fault"
notify INSTANCE VI_2 DELETED
t_is "$RC:$(last_vip)" "0:vip_changed stop keepalived: VRRP instance VI_2 is now STOP on lb-t" "keepalived 2.2's DELETED: stop"
notify INSTANCE VI_2 STOP 100
t_is "$RC:$(last_vip)" "0:vip_changed stop keepalived: VRRP instance VI_2 is now STOP on lb-t" "STOP: stop"
for args in "INSTANCE VI_2" "INSTANCE VI_2 BOGUS 100" "PEER VI_2 MASTER 100"; do
	# shellcheck disable=SC2086 # split on purpose
	notify $args
	t_is "$RC" 2 "vigil-notify $args: exit 2"
done
t_like "$ERR" "^vigil-notify: PEER VI_2: not an INSTANCE or GROUP" "and says why"

# keepalived's track script: healthy while vigil answers GET /api/status.
check() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin timeout 30 "$top_srcdir/etc/keepalived/vigil-check" "$@" >&2; }
t_ok "vigil-check 127.0.0.1:$ADMIN: healthy (exit 0)" check "127.0.0.1:$ADMIN"

ctl reload
t_is "$RC:$OUT" "0:configuration reloaded" "reload"
cp "$CONF" "$T/etc/good.conf"
echo 'proxy = { connect_timeout_ms = 1; };' >>"$CONF"
ctl reload
t_is "$RC" 1 "reload of a broken configuration exits 1"
t_like "$ERR" "connect_timeout_ms" "and prints vigil's errors, one a line"
t_like "$ERR" "^vigilctl: the configuration was not reloaded \(1 error\)" "and says it was not reloaded"
cp "$T/etc/good.conf" "$CONF"

# ---------------------------------------------------------------- refusals
ctl -k "$T/etc/wrong.token" drain vro-2
t_is "$RC" 1 "a wrong token: exit 1"
t_like "$ERR" "^vigilctl: the token was refused" "a wrong token: the token was refused"
t_is "$(state vro-2)" running "and nothing changed"

ctl -t "$T/etc/missing.token" drain vro-2
t_is "$RC" 4 "a missing token file: exit 4"
t_like "$ERR" "^vigilctl: cannot read the admin token: .*missing.token: No such file or directory$" "and says so"

chmod 000 "$T/etc/admin.token"
if [ "$(id -u)" != 0 ]; then
	ctl drain vro-2
	t_is "$RC" 4 "an unreadable token file: exit 4"
else
	t_skip "an unreadable token file: exit 4" "root reads any file"
fi
chmod 600 "$T/etc/admin.token"

# vigil without admin.token_file refuses every POST (403).
vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly"
admin_conf >"$T/etc/admin.inc"
vigil_start "$CONF"
t_wait 15 "vigil back without a token_file" answers
ctl drain vro-2
t_is "$RC" 1 "no token_file in vigil: exit 1"
t_is "$ERR" "vigilctl: vigil has no admin.token_file configured: POSTs are refused" "no token_file in vigil: the 403 explained"
ctl -t "$T/etc/admin.token" reload
t_is "$RC" 1 "even with a token: exit 1"
ctl -t "$T/etc/admin.token" vip master VI_1
t_is "$RC:$ERR" "1:vigilctl: vigil has no admin.token_file configured: POSTs are refused" "vip too: the 403 explained, exit 1"

# ---------------------------------------------------------------- not there
vigil_stop
ctl status
t_is "$RC" 3 "vigil not running: exit 3"
t_is "$ERR" "vigilctl: cannot reach vigil at 127.0.0.1:$ADMIN: Connection refused — is vigil running? (admin.address in $CONF)" "vigil not running: the message"
notify INSTANCE VI_1 MASTER 100
t_is "$RC" 3 "vigil-notify with vigil not running: vigilctl's exit 3"
t_like "$ERR" "^vigil-notify: INSTANCE VI_1 is now MASTER, but vigil was not told \(exit 3\): vigilctl: cannot reach vigil" "and says so"
t_ok "vigil-check with vigil not running: unhealthy (exit 1)" ! check "127.0.0.1:$ADMIN"
RC=0
ERR=$(timeout 30 "$CTL" -c "$T/etc/nowhere.conf" status 2>&1) || RC=$?
t_is "$RC" 2 "-c naming a missing file: exit 2"
t_like "$ERR" "nowhere.conf: cannot read the file: No such file or directory" "and names the file"

# ---------------------------------------------------------------- usage
for args in "" "bogus" "drain" "drain a b" "status extra" "events -n -1" "-x status" "vip" "vip master VI_1 x" "events -n"; do
	RC=0
	# shellcheck disable=SC2086
	"$CTL" -a 127.0.0.1:1 $args >/dev/null 2>"$T/err" || RC=$?
	t_is "$RC" 2 "usage error: vigilctl $args"
done
t_like "$(cat "$T/err")" "^vigilctl: option -n needs a value" "usage errors say what is wrong"
RC=0
"$CTL" --help >"$T/out" || RC=$?
t_is "$RC" 0 "--help exits 0"
t_like "$(cat "$T/out")" "^usage: vigilctl \[-c CONFIG\] \[-a ADDRESS\] \[-k TOKEN_FILE\] \[-j\] COMMAND" "--help prints the usage"
t_like "$("$CTL" -V)" "^vigilctl [0-9]+\.[0-9]+\.[0-9]+" "-V prints the version"

t_ok "the token never shows in any output" bash -c "! grep -qF -- '$TOKEN' '$T/all-output' '$T/follow.out' '$T/follow.err'"

t_done
