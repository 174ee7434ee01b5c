#!/usr/bin/env bash
# hooks.sh: SPEC.md "Restart hooks" against real PostgreSQL and simulated
# nodes: a node the cluster shut down gets the operator's hook, with the
# VIGIL_* environment and nothing else; a hung node never does; two nodes
# shut down together are restarted one after the other; a hook that hangs
# is killed at its timeout and counted as failed; failures end in
# restart_gave_up; a dry run runs nothing.
. "$top_srcdir/tests/integration/lib.sh"

command -v curl >/dev/null || t_skip_all "curl is not installed"
PY=/usr/bin/python3
pg_start || t_skip_all "no PostgreSQL server to test against"

TIM=(--interval-ms 200 --failover-heartbeats 5 --startup-ms 300)
ADMIN=

status() { vigil_status "$ADMIN" "$@"; }
state_is() { [ "$(status "$1" state)" = "$2" ]; }
log_has() { grep -qE -- "$1" "$T/vigil.log"; }
# spooled EVENT NODE: the spool has that event for that node
spooled() { grep -q "\"event\":\"$1\",\"cluster\":\"c\",\"node\":\"$2\"" "$T/spool/events.log"; }
# line_of EVENT NODE: its line number in the spool (the order of events)
line_of() { grep -n "\"event\":\"$1\",\"cluster\":\"c\",\"node\":\"$2\"" "$T/spool/events.log" | head -1 | cut -d: -f1; }

# The hook: notes its start and environment, then does what $T/mode-NODE
# says: "ok" restarts the simulated node, "hang" sleeps, "fail" exits 1.
cat >"$T/hook" <<SH
#!/bin/sh
set -eu
mode=\$(cat "$T/mode-\$VIGIL_NODE" 2>/dev/null || echo ok)
echo "start \$VIGIL_NODE \$VIGIL_ATTEMPT \$mode" >>"$T/hook.log"
tr '\0' '\n' </proc/\$\$/environ | sort >"$T/env-\$VIGIL_NODE"
ls -l /proc/\$\$/fd >"$T/fd-\$VIGIL_NODE" & wait \$!
echo "restarting \$VIGIL_NODE at \$VIGIL_NODE_ADDRESS"
case \$mode in
ok) "$top_builddir/tests/sim/vigil-simctl" "$T/sim-\$VIGIL_NODE.sock" restart ;;
hang) exec sleep 30 ;;
fail) echo "cannot reach the node's control API" >&2; exit 1 ;;
esac
SH
chmod +x "$T/hook"
printf 'h00k-t0ken\n' >"$T/token"
chmod 600 "$T/token"

# cluster "HOOK SETTINGS" NAME:STATE:PRIORITY...: fresh sims and vigil
cluster() {
	local hooks=$1 name st prio nodes=""
	shift
	if [ -n "$VIGIL_PID" ]; then
		vigil_stop
		t_is "$VIGIL_STATUS" 0 "vigil stops cleanly (exit 0)"
	fi
	for name in "${!SIM_PID[@]}"; do sim_stop "$name"; done
	psql_q "SET client_min_messages = warning" "TRUNCATE vigil_heartbeat" \
		"DROP TABLE IF EXISTS vigil_sim_role" >/dev/null
	rm -rf "$T/spool" "$T"/mode-* "$T"/env-* "$T"/fd-* "$T/hook.log"
	for n in "$@"; do
		IFS=: read -r name st prio <<<"$n"
		sim_start "$name" "$st" "${TIM[@]}" --priority "$prio" || t_bail "sim $name"
		nodes+="${nodes:+,}{ name = \"$name\"; address = \"127.0.0.1:$(sim_port "$name")\"; priority = $prio; }"
	done
	ADMIN=$(free_port)
	cat >"$T/vigil.conf" <<CONF
vigil = { name = "t"; spool_dir = "$T/spool"; };
listen = ( { address = "127.0.0.1:$(free_port)"; } );
cluster = { name = "c"; nodes = ( $nodes ); };
health = {
  probe = { interval_ms = 200; timeout_ms = 200; rise = 2; fall = 2;
            standby = "\"state\"\\\\s*:\\\\s*\"STANDBY\""; };
  heartbeat = { conninfo = "$PG_CONNINFO"; interval_ms = 200; failover_heartbeats = 5; };
};
hooks = { restart = { command = ["$T/hook", "--verbose"]; $ROOT_OK $hooks }; };
admin = { address = "127.0.0.1:$ADMIN"; token_file = "$T/token"; };
CONF
	: >"$T/hook.log"
	vigil_start "$T/vigil.conf"
	for n in "$@"; do
		IFS=: read -r name st prio <<<"$n"
		wait_for 10 state_is "$name" "$st" || t_diag "$name is not $st"
	done
}

# As root (CI), the hooks here run as root: vigil wants that said.
ROOT_OK=
[ "$(id -u)" = 0 ] && ROOT_OK="allow_root = true;"

# ------------------------------------------- a hung node: never a hook
cluster "timeout_ms = 5000; wait_running_ms = 5000; backoff_ms = 200;" \
	vro-1:running:1 vro-2:standby:2
simctl vro-2 heartbeat stop >/dev/null
t_wait 10 "vro-2 is hung (REST answers, heartbeat stale)" state_is vro-2 hung
sleep 2 # the failover timeout is 1 s: twice that, still no hook
t_is "$(wc -l <"$T/hook.log")" 0 "a hung node never triggers the hook"
t_is "$(status vro-2 restart.state)" idle "its restart state stays idle"
simctl vro-2 heartbeat resume >/dev/null
t_wait 10 "vro-2 standby again" state_is vro-2 standby

# ------------------------------------------- never root by accident
if [ "$(id -u)" = 0 ]; then
	sed 's/allow_root = true;//' "$T/vigil.conf" >"$T/root.conf"
	rc=0
	out=$("${VIGIL_CMD[@]}" -t -c "$T/root.conf" 2>&1) || rc=$?
	t_ok "as root, a hook without allow_root: vigil -t refuses it" test "$rc" != 0
	t_like "$out" "root\.conf:[0-9]+: hooks\.restart: the hook would run as root; set vigil\.user" \
		"and says why, with the file and line"
	sed 's/vigil = { name = "t";/vigil = { name = "t"; user = "nobody";/' "$T/root.conf" >"$T/nobody.conf"
	t_ok "with vigil.user = nobody the same hook is accepted" \
		"${VIGIL_CMD[@]}" -t -c "$T/nobody.conf"
else
	t_skip "as root, a hook without allow_root is refused" "not running as root"
fi

# ------------------------------------------- shut down: the hook, once
simctl vro-2 shutdown >/dev/null
t_wait 10 "vro-2 shut down: the hook ran" grep -q "start vro-2 1 ok" "$T/hook.log"
t_wait 10 "vro-2 is back as standby" state_is vro-2 standby
t_wait 5 "restart_started raised" spooled restart_started vro-2
t_wait 5 "restart_succeeded raised" spooled restart_succeeded vro-2
t_is "$(grep -c 'start vro-2' "$T/hook.log")" 1 "the hook ran once"
t_ok "its output went to the log, with the node's name" \
	log_has "hook vro-2: restarting vro-2 at 127.0.0.1:$(sim_port vro-2)"
t_is "$(status vro-2 restart.attempts)" 0 "attempts back to 0"
env_names=$(cut -d= -f1 "$T/env-vro-2" | tr '\n' ' ')
t_is "$env_names" "PATH VIGIL_ATTEMPT VIGIL_CLUSTER VIGIL_EVENT VIGIL_HEARTBEAT_AGE_MS VIGIL_NODE VIGIL_NODE_ADDRESS VIGIL_REASON " \
	"the hook's environment is the VIGIL_* variables and PATH, nothing else"
t_ok "VIGIL_EVENT=restart" grep -qx VIGIL_EVENT=restart "$T/env-vro-2"
t_ok "VIGIL_NODE_ADDRESS" grep -qx "VIGIL_NODE_ADDRESS=127.0.0.1:$(sim_port vro-2)" "$T/env-vro-2"
t_ok "VIGIL_REASON says why" grep -qE '^VIGIL_REASON=.*missed .* heartbeats' "$T/env-vro-2"
t_ok "VIGIL_HEARTBEAT_AGE_MS is a number" grep -qE '^VIGIL_HEARTBEAT_AGE_MS=[0-9]+$' "$T/env-vro-2"
# Besides 0, 1 and 2, the hook's shell holds only its own: the script it
# reads and a /dev/null (dash's); no socket, pipe or file of vigil's.
t_is "$(awk 'NF >= 11 && $9 !~ /^[012]$/ && $11 != "/dev/null" && $11 != "'"$T/hook"'" { print $9 " -> " $11 }' "$T/fd-vro-2")" "" \
	"no descriptor of vigil's reaches the hook"
t_like "$(awk '$9 == "1" { print $11 }' "$T/fd-vro-2")" '^pipe:' "its stdout is vigil's pipe to the log"

# ------------------------------------------- two at once: one after the other
cluster "timeout_ms = 5000; wait_running_ms = 8000; backoff_ms = 200; sequential = true;" \
	vro-1:running:1 vro-2:standby:2 vro-3:standby:3
simctl vro-2 shutdown >/dev/null
simctl vro-3 shutdown >/dev/null
t_wait 15 "both hooks ran" bash -c "grep -q 'start vro-2' '$T/hook.log' && grep -q 'start vro-3' '$T/hook.log'"
first=$(head -1 "$T/hook.log" | awk '{print $2}')
second=$([ "$first" = vro-2 ] && echo vro-3 || echo vro-2)
t_wait 10 "$first back: restart_succeeded" spooled restart_succeeded "$first"
t_wait 10 "$second back: restart_succeeded" spooled restart_succeeded "$second"
t_ok "$second's hook started only after $first was back" \
	test "$(line_of restart_succeeded "$first")" -lt "$(line_of restart_started "$second")"
t_ok "$second's hook ran once, not once per wait" \
	test "$(grep -c "start $second" "$T/hook.log")" = 1

# ------------------------------------------- a hook that hangs
cluster "timeout_ms = 500; wait_running_ms = 5000; backoff_ms = 200; max_attempts = 2;" \
	vro-1:running:1 vro-2:standby:2
echo hang >"$T/mode-vro-2"
simctl vro-2 shutdown >/dev/null
t_wait 10 "the hanging hook started" grep -q "start vro-2 1 hang" "$T/hook.log"
t_wait 5 "it was killed at its timeout: restart_failed" spooled restart_failed vro-2
t_like "$(grep '"event":"restart_failed"' "$T/spool/events.log" | head -1)" \
	'timed out after 500 ms' "restart_failed says it timed out"
t_ok "its process group is gone (no sleep 30 left)" \
	bash -c "! pgrep -f '^sleep 30$' >/dev/null"
t_wait 5 "a second attempt after the back-off" grep -q "start vro-2 2 hang" "$T/hook.log"
t_wait 5 "then restart_gave_up (max_attempts = 2)" spooled restart_gave_up vro-2
t_is "$(status vro-2 restart.state)" gave_up "status: gave_up"
t_is "$(status vro-2 restart.attempts)" 2 "status: 2 attempts"
sleep 1
t_is "$(grep -c 'start vro-2' "$T/hook.log")" 2 "no third try"
t_ok "vigil kept serving its API while hooks ran" curl -sf --max-time 2 "http://127.0.0.1:$ADMIN/api/status" -o /dev/null
# The operator re-arms it (vigilctl enable): attempts start over.
echo ok >"$T/mode-vro-2"
t_is "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer h00k-t0ken' \
	"http://127.0.0.1:$ADMIN/api/nodes/vro-2/enable")" 200 "enable vro-2 after restart_gave_up"
t_wait 10 "the hook runs again, as attempt 1" grep -q "start vro-2 1 ok" "$T/hook.log"
t_wait 10 "and vro-2 is back" state_is vro-2 standby

# ------------------------------------------- a failing hook, then back by hand
cluster "timeout_ms = 5000; wait_running_ms = 5000; backoff_ms = 100; max_attempts = 3;" \
	vro-1:running:1 vro-2:standby:2
echo fail >"$T/mode-vro-2"
simctl vro-2 shutdown >/dev/null
t_wait 10 "three failed attempts, then restart_gave_up" spooled restart_gave_up vro-2
t_is "$(grep -c '"event":"restart_failed","cluster":"c","node":"vro-2"' "$T/spool/events.log")" 3 \
	"restart_failed for each attempt"
t_like "$(grep '"event":"restart_failed"' "$T/spool/events.log" | head -1)" \
	'exit status 1; last output: .*cannot reach the node' "restart_failed has the exit status and the last output"
simctl vro-2 restart >/dev/null
t_wait 10 "the operator brought it back: standby" state_is vro-2 standby
t_wait 5 "re-armed: state idle, 0 attempts" bash -c "[ \"\$(curl -s http://127.0.0.1:$ADMIN/api/status | grep -o '\"restart\":{\"attempts\":0,\"state\":\"idle\"}' | wc -l)\" = 2 ]"

# ------------------------------------------- dry run
cluster "dry_run = true; wait_running_ms = 5000;" vro-1:running:1 vro-2:standby:2
simctl vro-2 shutdown >/dev/null
t_wait 10 "dry run: restart_started raised" spooled restart_started vro-2
t_like "$(grep '"event":"restart_started"' "$T/spool/events.log")" '"dry_run":true' \
	"restart_started says dry_run"
t_ok "the exact argv was logged" log_has "hook vro-2: dry run, would run argv: \"$T/hook\" \"--verbose\"; environment: .*\"VIGIL_NODE=vro-2\""
sleep 1
t_is "$(wc -l <"$T/hook.log")" 0 "nothing ran"
t_is "$(grep -c restart_started "$T/spool/events.log")" 1 "raised once"

vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly (exit 0)"
t_done
