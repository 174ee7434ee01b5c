#!/usr/bin/env bash
# health.sh: SPEC.md "How vigil decides" against a real PostgreSQL and
# simulated vRO nodes: failover when the active node is shut down, hung,
# unreachable, a frozen process (SIGSTOP), the database going away (no node
# leaves running), split brain, and HTTPS probes with the right and the
# wrong CA. Small timings: beats every 200 ms, 5 may be missed (1 s).
. "$top_srcdir/tests/integration/lib.sh"

command -v curl >/dev/null || t_skip_all "curl is not installed"
pg_start || t_skip_all "no PostgreSQL server to test against"

PY=/usr/bin/python3
# The sims keep their role when the database goes (--db-loss-standby-ms 0),
# so that what changes is only what vigil concludes.
TIM=(--interval-ms 200 --failover-heartbeats 5 --startup-ms 500 --db-loss-standby-ms 0)
ADMIN=

# status NODE FIELD: a field of a node in /api/status ("" when unknown)
status() { vigil_status "$ADMIN" "$@"; }
state_is() { [ "$(status "$1" state)" = "$2" ]; }
active_is() { [ "$(status - active)" = "$1" ]; }
log_has() { grep -qE -- "$1" "$T/vigil.log"; }

# cluster NAME:STATE:PRIORITY... [-- VIGIL SETTINGS]: fresh sims and vigil
cluster() {
	local name st prio nodes="" extra=""
	if [ -n "$VIGIL_PID" ]; then
		vigil_stop
		# under --enable-sanitizers a leak or a bad access fails this
		t_is "$VIGIL_STATUS" 0 "vigil stops cleanly (exit 0)"
	fi
	for name in "${!SIM_PID[@]}"; do
		kill -CONT "${SIM_PID[$name]}" 2>/dev/null
		sim_stop "$name"
	done
	psql_q "SET client_min_messages = warning" "TRUNCATE vigil_heartbeat" \
		"DROP TABLE IF EXISTS vigil_sim_role" >/dev/null
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		IFS=: read -r name st prio <<<"$1"
		sim_start "$name" "$st" "${TIM[@]}" --priority "$prio" || t_bail "sim $name"
		nodes+="${nodes:+,}{ name = \"$name\"; address = \"127.0.0.1:$(sim_port "$name")\"; priority = $prio; }"
		shift
	done
	[ "${1:-}" = "--" ] && shift && extra="$*"
	ADMIN=$(free_port)
	cat >"$T/vigil.conf" <<CONF
vigil = { name = "t"; spool_dir = "$T/spool"; };
listen = ( { address = "127.0.0.1:$(free_port)"; } );
cluster = { name = "c"; nodes = ( $nodes ); };
health = {
  probe = { interval_ms = 200; timeout_ms = 200; rise = 2; fall = 3;
            standby = "\"state\"\\\\s*:\\\\s*\"STANDBY\""; };
  heartbeat = { conninfo = "$PG_CONNINFO"; interval_ms = 200; failover_heartbeats = 5; };
};
admin = { address = "127.0.0.1:$ADMIN"; };
$extra
CONF
	: >"$T/vigil.log"
	vigil_start "$T/vigil.conf"
}

# ---------------------------------------------------------------- failover
cluster vro-1:running:1 vro-2:standby:2 vro-3:standby:3
t_wait 10 "vro-1 running and active" active_is '["vro-1"]'
t_wait 5 "the standbys are standby" bash -c "[ \"\$(curl -s http://127.0.0.1:$ADMIN/api/status | grep -o '\"state\":\"standby\"' | wc -l)\" = 2 ]"
t_is "$(status - heartbeat_source)" up "heartbeat source up"
t_like "$(status vro-1 why)" "^REST probe says RUNNING, heartbeat fresh \(last [0-9.]+ s ago\)$" "why of a running node"

simctl vro-1 shutdown >/dev/null
t_wait 5 "shut down: REST fails then the beat goes stale: shut_down" state_is vro-1 shut_down
t_like "$(status vro-1 why)" "^missed [0-9]+ heartbeats \(last [0-9.]+ s ago\) and REST probe failed [0-9]+ times: connection refused$" "why of shut_down"
t_wait 5 "vro-2 (priority 2) promoted itself and is active" active_is '["vro-2"]'
t_ok "the failover event names both nodes" log_has "event failover [0-9A-Z]{26}: cluster=c from=vro-1 to=vro-2"
t_ok "node_down for vro-1" log_has "event node_down [0-9A-Z]{26}: cluster=c node=vro-1 state=(unreachable|shut_down)"
t_is "$(grep -c 'event failover' "$T/vigil.log")" 1 "exactly one failover event"
t_is "$(status vro-1 heartbeat_age_ms | cut -d. -f1 | awk '{print ($1 > 1000)}')" 1 "the stale age is shown"

# A reload keeps what vigil knows of every node that stays.
node_events() { grep -cE 'event (node_|failover|all_down|split_brain)' "$T/vigil.log"; }
events_before=$(node_events)
kill -HUP "$VIGIL_PID"
t_wait 5 "SIGHUP reloads" log_has "configuration reloaded"
sleep 0.5
t_is "$(status - active)" '["vro-2"]' "the active set survives a reload"
t_is "$(status vro-1 state)" shut_down "node states survive a reload"
t_is "$(node_events)" "$events_before" "a reload raises no node or cluster event"
t_ok "but config_reloaded" log_has "event config_reloaded [0-9A-Z]{26}: cluster=c"

# ---------------------------------------------------------------- hung
simctl vro-2 heartbeat stop >/dev/null
t_wait 5 "heartbeats stopped, REST up: hung" state_is vro-2 hung
t_like "$(status vro-2 why)" "but REST probe says RUNNING$" "why of hung"
t_ok "a hung node left the active set" bash -c "! grep -q vro-2 <<<\"\$(curl -s http://127.0.0.1:$ADMIN/api/status | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"active\"])')\""

# ---------------------------------------------------------------- unreachable
cluster n1:running:1 n2:standby:2
t_wait 10 "n2 standby" state_is n2 standby
simctl n2 http500 on >/dev/null
t_wait 5 "REST answers 500 while the beat is fresh: unreachable" state_is n2 unreachable
t_like "$(status n2 why)" "^REST probe failed [0-9]+ times?: HTTP 500 \(expected 200\); heartbeat fresh" "why of unreachable"
t_is "$(status n2 probe.verdict)" failed "probe verdict failed"
simctl n2 http500 off >/dev/null
t_wait 5 "and back to standby when it answers again" state_is n2 standby
t_ok "node_up raised" log_has "event node_up [0-9A-Z]{26}: cluster=c node=n2 state=standby"

# ---------------------------------------------------------------- SIGSTOP
pid=${SIM_PID[n1]}
kill -STOP "$pid"
on_exit bash -c "kill -CONT $pid 2>/dev/null || true"
start=$EPOCHREALTIME
t_wait 5 "a frozen node (SIGSTOP) fails" bash -c "s=\$(curl -s http://127.0.0.1:$ADMIN/api/status | $PY -c 'import json,sys; print([n[\"state\"] for n in json.load(sys.stdin)[\"nodes\"] if n[\"name\"]==\"n1\"][0])'); [ \"\$s\" = unreachable ] || [ \"\$s\" = shut_down ]"
t_diag "detected after $(awk "BEGIN{print $EPOCHREALTIME - $start}") s (bound: timeout 0.2 s x fall 3 + interval 0.2 s)"
# Which goes first, three probe timeouts (~0.8 s) or the stale beat (1 s),
# is a race on a loaded machine; either way it ends shut_down by timeout.
t_wait 5 "then shut_down" state_is n1 shut_down
t_like "$(status n1 why)" "REST probe failed [0-9]+ times: timeout after 200 ms$" "the cause is the timeout"
kill -CONT "$pid"

# ---------------------------------------------------------------- database away
cluster d1:running:1 d2:standby:2
t_wait 10 "d1 running" state_is d1 running
t_wait 5 "d2 standby" state_is d2 standby
pg_stop
t_wait 5 "database stopped: heartbeat source down" bash -c "[ \"\$(curl -s http://127.0.0.1:$ADMIN/api/status | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"heartbeat_source\"])')\" = down ]"
t_wait 3 "heartbeat_source_down raised" log_has "event heartbeat_source_down"
sleep 3 # longer than the failover timeout (1 s): nothing may go stale
t_is "$(status d1 state)" running "no node leaves running while the database is away"
t_is "$(status d2 state)" standby "the standby stays standby"
t_is "$(status d1 heartbeat_age_ms)" null "heartbeat age unknown"
pg_start_again || t_bail "PostgreSQL did not come back"
t_wait 10 "database back: heartbeat_source_up" log_has "event heartbeat_source_up"
sleep 1.5
t_is "$(status d1 state)" running "still running after the database came back"
t_is "$(grep -c 'event heartbeat_source_down' "$T/vigil.log")" 1 "source_down raised once"
t_is "$(grep -c 'event heartbeat_source_up' "$T/vigil.log")" 1 "source_up raised once"
t_ok "no node_down while the database was away" bash -c "! grep -q 'event node_down' '$T/vigil.log'"

# ---------------------------------------------------------------- failover across a reload
# The active node goes, its place stays free for a while (the standby is
# held), vigil reloads, then the standby takes over: still a failover.
cluster r1:running:1 r2:standby:2
t_wait 10 "r1 active" active_is '["r1"]'
simctl r2 standby >/dev/null # held: it will not promote by itself
simctl r1 shutdown >/dev/null
t_wait 5 "r1 gone: nobody active" active_is '[]'
kill -HUP "$VIGIL_PID"
t_wait 5 "reloaded meanwhile" log_has "configuration reloaded"
simctl r2 running >/dev/null
t_wait 5 "r2 takes the place" active_is '["r2"]'
t_wait 3 "the failover is raised across the reload" log_has "event failover [0-9A-Z]{26}: cluster=c from=r1 to=r2"

# ---------------------------------------------------------------- a bad query
# A query of the wrong shape is logged and the evidence is unknown: nothing
# goes stale on its account.
cluster q1:running:1
t_wait 10 "q1 running" state_is q1 running
sed -i 's/^  heartbeat = { conninfo = /  heartbeat = { query = "SELECT node, beat, 1 FROM vigil_heartbeat"; conninfo = /' "$T/vigil.conf"
kill -HUP "$VIGIL_PID"
t_wait 5 "a query with three columns is reported" log_has "heartbeat database: the query must return 2 columns \(node, age_ms\), not 3"
t_wait 5 "and the source is down" log_has "event heartbeat_source_down"
sleep 1.5
t_is "$(status q1 state)" running "the node stays running (evidence unknown, not stale)"
t_is "$(status q1 heartbeat)" unknown "its heartbeat is unknown"

# ---------------------------------------------------------------- split brain
cluster s1:running:1 s2:standby:2
t_wait 10 "s1 active" active_is '["s1"]'
simctl s2 running >/dev/null
t_wait 5 "two running with active_nodes = 1: split brain" bash -c "[ \"\$(curl -s http://127.0.0.1:$ADMIN/api/status | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"split_brain\"])')\" = True ]"
t_ok "split_brain event" log_has "event split_brain [0-9A-Z]{26}: cluster=c"
t_is "$(status - active)" '["s1"]' "no preemption: s1 stays the active node"

# ---------------------------------------------------------------- HTTPS probes
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/node.key" -out "$T/node.pem" -days 2 -subj "/CN=localhost" \
	-addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/other.key" -out "$T/other.pem" -days 2 -subj "/CN=other" 2>/dev/null
vigil_stop
for name in "${!SIM_PID[@]}"; do sim_stop "$name"; done
sim_start h1 running "${TIM[@]}" --tls-cert "$T/node.pem" --tls-key "$T/node.key" || t_bail "tls sim"
tls_conf() { # CA_FILE
	ADMIN=$(free_port)
	cat >"$T/vigil.conf" <<CONF
vigil = { name = "t"; spool_dir = "$T/spool"; };
listen = ( { address = "127.0.0.1:$(free_port)"; } );
cluster = { name = "c"; nodes = ( { name = "h1"; address = "127.0.0.1:$(sim_port h1)"; tls = true; } ); };
health = { probe = { interval_ms = 200; timeout_ms = 200; rise = 1; fall = 1; ca_file = "$1"; }; };
admin = { address = "127.0.0.1:$ADMIN"; };
CONF
	: >"$T/vigil.log"
	vigil_start "$T/vigil.conf"
}
tls_conf "$T/node.pem"
t_wait 5 "HTTPS probe with the node's CA: running" state_is h1 running
vigil_stop
tls_conf "$T/other.pem"
t_wait 5 "HTTPS probe with the wrong CA: failed" state_is h1 unreachable
t_like "$(status h1 probe.cause)" "^TLS certificate verification failed" "with a clear cause"
vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly (exit 0)"

t_done
