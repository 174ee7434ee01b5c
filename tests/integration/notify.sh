#!/usr/bin/env bash
# notify.sh: SPEC.md "Events" as operators receive them: a failover reaches
# a local webhook receiver within a second, a Slack-format webhook with its
# auth header, a local SMTP server, and an exec channel; a receiver that
# answers 500 gets the same event again until it answers 200; a receiver
# that is down while vigil is killed with SIGKILL gets the pending event,
# with the same id, once both are back; flap damping holds back a node
# that keeps changing state.
. "$top_srcdir/tests/integration/lib.sh"

command -v curl >/dev/null || t_skip_all "curl is not installed"
PY=/usr/bin/python3
$PY -c 'import aiosmtpd' 2>/dev/null || t_skip_all "python3-aiosmtpd is not installed"
pg_start || t_skip_all "no PostgreSQL server to test against"

TIM=(--interval-ms 200 --failover-heartbeats 5 --startup-ms 300)
RECV=$top_srcdir/tests/integration/receiver.py
ADMIN=$(free_port)
HOOK_PORT=$(free_port)
FLAKY_PORT=$(free_port)
SMTP_PORT=$(free_port)

# receiver NAME PORT [ARGS…]: a webhook receiver writing $T/NAME.jsonl
receiver() {
	local name=$1 port=$2
	shift 2
	bg "recv-$name" $PY "$RECV" --port "$port" --out "$T/$name.jsonl" "$@"
	eval "RECV_$name=\$BG_PID"
	wait_for 10 port_open "$port" || t_bail "receiver $name did not start"
}
# posted NAME EVENT: the bodies NAME got whose "event" is EVENT, one a line
posted() {
	[ -f "$T/$1.jsonl" ] || return 0
	$PY - "$T/$1.jsonl" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    try:
        b = json.loads(r["body"])
    except ValueError:
        continue
    if b.get("event") == sys.argv[2]:
        print(json.dumps(b, sort_keys=True))
PY
}
count_posted() { posted "$1" "$2" | grep -c . || true; }
has_posted() { [ "$(count_posted "$1" "$2")" -ge "${3:-1}" ]; }
status() {
	curl -s --max-time 2 "http://127.0.0.1:$ADMIN/api/status" |
		$PY -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps(d["active"]))'
}
active_is() { [ "$(status)" = "$1" ]; }
log_has() { grep -qE -- "$1" "$T/vigil.log"; }

cat >"$T/exec-sink" <<SH
#!/bin/sh
# an exec channel: the event on stdin, appended to a file
cat >>"$T/exec.jsonl" && echo >>"$T/exec.jsonl"
SH
chmod +x "$T/exec-sink"

receiver hook "$HOOK_PORT"
receiver flaky "$FLAKY_PORT" --status-seq 500,500,200
bg smtp $PY "$top_srcdir/tests/integration/smtp-sink.py" --port "$SMTP_PORT" \
	--out "$T/mail.jsonl" --user vigil --password s3cret
wait_for 10 port_open "$SMTP_PORT" || t_bail "smtp-sink did not start"
printf 's3cret\n' >"$T/smtp.pass"
chmod 600 "$T/smtp.pass"

sim_start vro-1 running "${TIM[@]}" --priority 1 || t_bail "sim vro-1"
sim_start vro-2 standby "${TIM[@]}" --priority 2 || t_bail "sim vro-2"

write_conf() {
	cat >"$T/vigil.conf" <<CONF
vigil = { name = "lb-t"; spool_dir = "$T/spool"; };
listen = ( { address = "127.0.0.1:$(free_port)"; } );
cluster = { name = "c"; nodes = (
  { name = "vro-1"; address = "127.0.0.1:$(sim_port vro-1)"; priority = 1; },
  { name = "vro-2"; address = "127.0.0.1:$(sim_port vro-2)"; priority = 2; } ); };
health = {
  probe = { interval_ms = 200; timeout_ms = 200; rise = 2; fall = 2;
            standby = "\"state\"\\\\s*:\\\\s*\"STANDBY\""; };
  heartbeat = { conninfo = "$PG_CONNINFO"; interval_ms = 200; failover_heartbeats = 5; };
};
notify = {
  channels = (
    { type = "webhook"; url = "http://127.0.0.1:$HOOK_PORT/hook"; },
    { type = "webhook"; url = "http://127.0.0.1:$HOOK_PORT/slack"; format = "slack";
      headers = ["Authorization: Bearer t0ken", "X-Team: ops"]; events = ["failover"]; },
    { type = "webhook"; url = "http://127.0.0.1:$FLAKY_PORT/flaky"; events = ["failover"]; },
    { type = "email"; url = "smtp://127.0.0.1:$SMTP_PORT"; from = "vigil@example.test";
      to = ["ops@example.test", "oncall@example.test"]; username = "vigil";
      password_file = "$T/smtp.pass"; events = ["failover"]; },
    { type = "exec"; command = ["$T/exec-sink"]; events = ["failover", "node_down"]; },
    { type = "syslog"; },
    { type = "syslog"; events = ["failover"]; }
  );
  retry_initial_ms = 100; retry_max_ms = 400;
  $1
};
admin = { address = "127.0.0.1:$ADMIN"; };
CONF
}
write_conf ""
vigil_start "$T/vigil.conf"
t_wait 10 "vro-1 is active" active_is '["vro-1"]'

# ---------------------------------------------------------------- failover
simctl vro-1 shutdown >/dev/null
t_wait 15 "vro-2 took over" active_is '["vro-2"]'
t_wait 5 "the webhook receiver got the failover" has_posted hook failover
ev=$(posted hook failover | head -1)
t_like "$ev" '"from": "vro-1"' "failover: from vro-1"
t_like "$ev" '"to": "vro-2"' "failover: to vro-2"
t_like "$ev" '"id": "[0-9A-HJKMNP-TV-Z]{26}"' "failover: a ULID id"
t_like "$ev" '"appliance": "lb-t"' "failover: the appliance"
t_like "$ev" '"cluster": "c"' "failover: the cluster"
id=$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$ev")
# The receiver notes when each request arrived; the event's time is when
# vigil decided.
lag=$($PY - "$T/hook.jsonl" "$id" <<'PY'
import json, sys, datetime
for line in open(sys.argv[1]):
    r = json.loads(line)
    try:
        b = json.loads(r["body"])
    except ValueError:
        continue
    if b.get("id") == sys.argv[2]:
        t = datetime.datetime.strptime(b["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
        t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
        print("%.3f" % (r["t"] - t))
        break
PY
)
t_ok "the failover arrived within 1 s of the decision (${lag} s)" \
	$PY -c "import sys; sys.exit(0 if 0 <= float('$lag') < 1.0 else 1)"
t_ok "Content-Type is application/json" \
	grep -q '"Content-Type": "application/json"' "$T/hook.jsonl"
t_is "$(posted hook failover | grep -c "$id")" 1 "the failover reached /hook once"

# Slack-format webhook with extra headers.
t_wait 5 "the slack webhook got a post" grep -q '"/slack"' "$T/hook.jsonl"
slack=$(grep '"/slack"' "$T/hook.jsonl" | head -1)
t_like "$slack" 'Authorization": "Bearer t0ken' "slack: the configured auth header"
t_like "$slack" 'X-Team": "ops' "slack: a second configured header"
t_like "$slack" '\{\\"text\\": ?\\"\[vigil c\] failover: vro-1 → vro-2: ' \
	"slack: {\"text\": summary: reason}"
t_ok "no Authorization header reaches the plain webhook" \
	bash -c "! grep '\"/hook\"' '$T/hook.jsonl' | grep -q Authorization"
t_ok "no secret in vigil's log" bash -c "! grep -q -e t0ken -e s3cret '$T/vigil.log'"

# 500, 500, then 200: sent until acknowledged, then no more.
t_wait 5 "the flaky receiver acknowledged the failover on the 3rd try" \
	has_posted flaky failover 3
t_is "$(posted flaky failover | sort -u | wc -l)" 1 "the same event each time (same id)"
t_ok "vigil logged the failed tries" log_has "webhook channel 3 127.0.0.1:$FLAKY_PORT: failover $id not delivered \(HTTP 500\)"
t_wait 5 "and the delivery" log_has "webhook channel 3 127.0.0.1:$FLAKY_PORT: failover $id delivered"
sleep 1
t_is "$(count_posted flaky failover)" 3 "nothing more once acknowledged"

# E-mail through a local SMTP server, with login.
t_wait 10 "the SMTP server got the e-mail" test -s "$T/mail.jsonl"
mail=$(head -1 "$T/mail.jsonl")
t_like "$mail" '"from": "vigil@example.test"' "e-mail: envelope sender"
t_like "$mail" '"to": \["ops@example.test", "oncall@example.test"\]' "e-mail: both recipients"
t_like "$mail" '"auth": "vigil"' "e-mail: logged in as vigil"
t_like "$mail" 'Subject: =\?UTF-8\?B\?' "e-mail: encoded subject"
subject=$($PY -c '
import email, email.header, json, sys
m = email.message_from_string(json.loads(open(sys.argv[1]).readline())["data"])
print(str(email.header.make_header(email.header.decode_header(m["Subject"]))))' "$T/mail.jsonl")
t_is "$subject" "[vigil c] failover: vro-1 → vro-2" "e-mail: the subject SPEC.md gives"
t_like "$mail" 'event: +failover' "e-mail body: the event's fields"
t_like "$mail" "id: +$id" "e-mail body: its id"
t_like "$mail" 'NODE +STATE +ACTIVE' "e-mail body: the node table"
t_like "$mail" 'vro-2 +running +yes' "e-mail body: vro-2 running and active"

# exec: the event JSON on stdin.
t_wait 5 "the exec channel got the failover" grep -q "\"id\":\"$id\"" "$T/exec.jsonl"
t_ok "exec: node_down too (its filter)" grep -q '"event":"node_down"' "$T/exec.jsonl"
t_ok "exec: no node_up (filtered out)" bash -c "! grep -q '\"event\":\"node_up\"' '$T/exec.jsonl'"

# The spool holds every event once, in order.
t_ok "the spool has the failover" grep -q "\"id\":\"$id\"" "$T/spool/events.log"
t_is "$(ls "$T/spool" | grep -c '^cursor\.')" 7 "one cursor per channel (two syslog channels: two)"
t_wait 5 "both syslog channels sent the failover" bash -c "grep -q 'syslog channel 6: failover $id delivered' '$T/vigil.log' && grep -q 'syslog channel 7: failover $id delivered' '$T/vigil.log'"
t_ok "no cursor file names a URL or password" bash -c "! grep -rq -e t0ken -e s3cret -e /hook '$T/spool'"

# ------------------------------------------- receiver down, vigil SIGKILLed
kill "$RECV_hook"
wait_for 5 bash -c "! port_open $HOOK_PORT" 2>/dev/null
sent_before=$(count_posted hook node_up)
simctl vro-1 restart >/dev/null
t_wait 15 "vro-1 is back: node_up raised" log_has "event node_up [0-9A-Z]{26}: cluster=c node=vro-1"
up_id=$(grep -oE "event node_up [0-9A-Z]{26}: cluster=c node=vro-1" "$T/vigil.log" | tail -1 | awk '{print $3}' | tr -d :)
# In order: the channel is stuck on the first event it could not deliver.
t_wait 5 "vigil could not deliver (receiver down)" \
	log_has "webhook channel 1 127.0.0.1:$HOOK_PORT: [a-z_]+ [0-9A-Z]{26} not delivered"
t_ok "node_up not acknowledged" bash -c "! grep -q 'webhook channel 1 .*: node_up $up_id delivered' '$T/vigil.log'"
kill -KILL "$VIGIL_PID"
wait "$VIGIL_PID" 2>/dev/null
VIGIL_PID=
mv "$T/hook.jsonl" "$T/hook-before.jsonl"
receiver hook "$HOOK_PORT"
vigil_start "$T/vigil.conf"
t_wait 10 "after the restart, the receiver gets the pending node_up" \
	grep -q "$up_id" "$T/hook.jsonl"
t_is "$(grep -c "$up_id" "$T/hook.jsonl")" 1 "once"
t_ok "vigil said it was sending again" log_has "webhook channel 1 127.0.0.1:$HOOK_PORT: [0-9]+ events? not acknowledged before the last stop"
t_is "$(count_posted hook failover)" 0 "the failover (acknowledged before the kill) is not sent again"

# ---------------------------------------------------------------- flapping
vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly (exit 0)"
write_conf "flap_changes = 2; flap_window_ms = 1500;"
vigil_start "$T/vigil.conf"
t_wait 10 "an active node again" bash -c "[ \"\$(curl -s http://127.0.0.1:$ADMIN/api/status | grep -c '\"active\":\[\"vro-')\" = 1 ]"
# changes FROM TO N: vigil logged node vro-1 going from FROM to TO N times
changes() { [ "$(grep -c "node vro-1: $1 -> $2" "$T/vigil.log")" -ge "$3" ]; }
for i in 1 2 3; do
	simctl vro-1 http500 on >/dev/null
	wait_for 5 changes standby unreachable "$i" || break
	simctl vro-1 http500 off >/dev/null
	wait_for 5 changes unreachable standby "$i" || break
done
t_wait 5 "node_flapping raised for vro-1" has_posted hook node_flapping
t_like "$(posted hook node_flapping)" '"node": "vro-1"' "node_flapping names the node"
t_ok "its later node_down/node_up were held back" log_has "event node_(up|down): node vro-1 is flapping; held back"
t_wait 10 "node_stable once it settled" has_posted hook node_stable
t_like "$(posted hook node_stable)" 'held back' "node_stable summarises what was held back"

vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly (exit 0)"
t_done
