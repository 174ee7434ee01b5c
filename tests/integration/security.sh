#!/usr/bin/env bash
# security.sh: no secret vigil holds — the admin token, the cookie key, the
# database password, the SMTP password, a webhook's Authorization header and
# the credentials in its URL — ever shows in vigil's log (at debug level),
# its event log, `vigil -t`, the status page, /api/status, /api/events or
# /metrics, while every one of them is in use: failovers, failing channels,
# the database going away, reloads, refused POSTs. And an exec channel's
# program gets no descriptor of vigil's (a test lists its /proc/self/fd).
# Nothing a client sends picks where its request goes (no open proxy), and a
# forged stickiness cookie is replaced.
. "$top_srcdir/tests/integration/lib.sh"

command -v curl >/dev/null || t_skip_all "curl is not installed"
PY=/usr/bin/python3
pg_start || t_skip_all "no PostgreSQL server to test against"

TIM=(--interval-ms 200 --failover-heartbeats 5 --startup-ms 300)
SECRETS=(T0KEN-5e3c7a41 C00KIEKEY-9d1f0b27c4e8a6d3 DBPASS-91b2e6f0 SMTPPASS-77f1c3a9
	HOOKAUTH-2d4e8b15 URLPASS-6a0c2f93)
ADMIN=$(free_port)
RECV=$(free_port)
SMTP=$(free_port) # nothing listens there: the e-mail channel keeps failing

printf '%s\n' "${SECRETS[0]}" >"$T/token"
printf '%s%s\n' "${SECRETS[1]}" 0123456789abcdef0123456789abcdef >"$T/cookie.key"
printf '%s\n' "${SECRETS[3]}" >"$T/smtp.pass"
chmod 600 "$T/token" "$T/cookie.key" "$T/smtp.pass"
cat >"$T/exec-sink" <<SH
#!/bin/sh
# an exec channel: what it was given, and which descriptors it holds
cat >>"$T/exec.jsonl" && echo >>"$T/exec.jsonl"
ls -l /proc/\$\$/fd >"$T/exec-fd" & wait \$!
SH
chmod +x "$T/exec-sink"

bg recv $PY "$top_srcdir/tests/integration/receiver.py" --port "$RECV" \
	--out "$T/recv.jsonl" --status-seq 500,500,200
wait_for 10 port_open "$RECV" || t_bail "the receiver did not start"
sim_start a running "${TIM[@]}" --priority 1 || t_bail "sim a"
sim_start b standby "${TIM[@]}" --priority 2 || t_bail "sim b"

cat >"$T/vigil.conf" <<CONF
vigil = { name = "lb-s"; spool_dir = "$T/spool"; log = { level = "debug"; }; };
listen = ( { address = "127.0.0.1:$(free_port)"; } );
cluster = { name = "c"; active_nodes = 1;
  stickiness = { mode = "cookie"; secret_file = "$T/cookie.key"; };
  nodes = ( { name = "a"; address = "127.0.0.1:$(sim_port a)"; priority = 1; },
            { name = "b"; address = "127.0.0.1:$(sim_port b)"; priority = 2; } ); };
health = {
  probe = { interval_ms = 200; timeout_ms = 200; rise = 2; fall = 2;
            standby = "\"state\"\\\\s*:\\\\s*\"STANDBY\""; };
  heartbeat = { conninfo = "$PG_CONNINFO password=${SECRETS[2]}"; interval_ms = 200;
                failover_heartbeats = 5; };
};
notify = {
  channels = (
    { type = "webhook"; url = "http://hook:${SECRETS[5]}@127.0.0.1:$RECV/hook";
      headers = ["Authorization: Bearer ${SECRETS[4]}"]; },
    { type = "email"; url = "smtp://127.0.0.1:$SMTP"; from = "vigil@example.test";
      to = ["ops@example.test"]; username = "vigil"; password_file = "$T/smtp.pass"; },
    { type = "exec"; command = ["$T/exec-sink"]; }
  );
  retry_initial_ms = 100; retry_max_ms = 400;
};
admin = { address = "127.0.0.1:$ADMIN"; token_file = "$T/token"; };
CONF

"$top_builddir/vigil" -t -c "$T/vigil.conf" >"$T/configtest.out" 2>&1
t_is "$?" 0 "vigil -t accepts the configuration"
vigil_start "$T/vigil.conf"
active_is() { curl -s --max-time 2 "http://127.0.0.1:$ADMIN/api/status" | grep -q "\"active\":\[\"$1\"\]"; }
t_wait 10 "a is active" active_is a

# Every secret at work: a failover raises events (the webhook sends its
# header, after two 500s; the e-mail channel fails with its login), the
# database goes away and comes back, a reload, POSTs with and without the
# token.
simctl a shutdown >/dev/null
t_wait 15 "b took over" active_is b
t_wait 10 "the webhook got the failover, with its Authorization header" \
	grep -q "Bearer ${SECRETS[4]}" "$T/recv.jsonl"
t_wait 10 "the exec channel ran" test -s "$T/exec-fd"
pg_stop
t_wait 10 "the heartbeat database is seen down" grep -q "heartbeat_source_down" "$T/spool/events.log"
pg_start_again || t_bail "PostgreSQL did not start again"
t_wait 10 "and up again" grep -q "heartbeat_source_up" "$T/spool/events.log"
kill -HUP "$VIGIL_PID"
t_wait 10 "a reload" grep -q "reload" "$T/vigil.log"
t_is "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer wrong" \
	"http://127.0.0.1:$ADMIN/api/nodes/b/drain")" 401 "a wrong token: 401"
t_is "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer ${SECRETS[0]}" \
	"http://127.0.0.1:$ADMIN/api/nodes/a/disable")" 200 "the right token: 200"
t_wait 10 "the e-mail channel has failed, and said so" grep -q "email channel" "$T/vigil.log"
VIP=$(sed -n 's/.*listen = ( { address = "127.0.0.1:\([0-9]*\)".*/\1/p' "$T/vigil.conf")
cookie=$(curl -s -D - -o /dev/null "http://127.0.0.1:$VIP/" | sed -n 's/^Set-Cookie: VIGILNODE=\([^;]*\);.*/\1/p')
t_like "$cookie" '^b\.[A-Za-z0-9_-]{22}$' "a client gets b's cookie, signed with the key"
t_is "$(curl -s -D - -o /dev/null -H "Cookie: VIGILNODE=$cookie" "http://127.0.0.1:$VIP/" | grep -c Set-Cookie)" 0 \
	"the signed cookie is kept"
forged="b.${cookie:2:20}$(if [ "${cookie: -2}" = AA ]; then echo AB; else echo AA; fi)"
t_like "$(curl -s -D - -o /dev/null -H "Cookie: VIGILNODE=$forged" "http://127.0.0.1:$VIP/")" \
	"Set-Cookie: VIGILNODE=$cookie;" "a cookie whose MAC is altered is replaced"

# No open proxy: Host, an absolute-form target or CONNECT never choose the
# destination (here: vigil's own admin port).
t_is "$(curl -s -H "Host: 127.0.0.1:$ADMIN" "http://127.0.0.1:$VIP/api/status")" "b GET /api/status" \
	"Host naming another server: the request still goes to the active node"
t_is "$(curl -s -o /dev/null -w '%{http_code}' --request-target "http://127.0.0.1:$ADMIN/api/status" \
	"http://127.0.0.1:$VIP/")" 400 "an absolute-form target for another host: 400"
t_is "$(curl -s -o /dev/null -w '%{http_code}' -X CONNECT --request-target "127.0.0.1:$ADMIN" \
	"http://127.0.0.1:$VIP/")" 405 "CONNECT: 405"

# Everything an operator or a client can see.
for u in / /api/status /api/events /metrics; do
	curl -s "http://127.0.0.1:$ADMIN$u" >"$T/seen-$(tr -c 'a-z' _ <<<"$u")"
done
vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly"
for s in "${SECRETS[@]}"; do
	t_is "$(grep -l -- "$s" "$T/vigil.log" "$T/configtest.out" "$T/spool/events.log" \
		"$T"/spool/cursor.* "$T"/seen-* "$T/exec.jsonl" 2>/dev/null)" "" \
		"${s%%-*} is nowhere: log, vigil -t, event log, cursors, status page, API, metrics, exec's input"
done
t_ok "the log did say something (debug level)" test "$(wc -l <"$T/vigil.log")" -gt 50

# The exec channel's program holds its stdin, stdout and stderr, and
# nothing else of vigil's.
t_is "$(awk 'NF >= 11 && $9 !~ /^[012]$/ && $11 != "'"$T/exec-sink"'" { print $9 " -> " $11 }' "$T/exec-fd")" "" \
	"an exec channel's program gets no descriptor of vigil's"
t_done
