#!/usr/bin/env bash
# db.sh: the heartbeat database misbehaves under a steady client load, and
# vigil must not blame the nodes (SPEC.md "How vigil decides": while the
# database cannot be read the evidence is unknown, and after it comes back
# a beat is stale only once the database has been back for a failover
# timeout). Three outages: PostgreSQL (a) restarted, (b) stopped for 4 s,
# four failover timeouts, (c) answering the heartbeat query slower than
# vigil waits for it. Each: no node leaves running/standby, the active set
# and the clients are untouched, heartbeat_source_down and _up reach the
# receiver once each, and the nodes beat again afterwards. Then (d), the
# rule itself: nodes that stay silent after the database came back are
# hung one failover timeout after its return, not before.
. "$top_srcdir/tests/faults/lib.sh"

fault_pg

src_is() { [ "$(status - heartbeat_source)" = "$1" ]; }
fresh() { [ "$(status a heartbeat)" = fresh ] && [ "$(status b heartbeat)" = fresh ]; }
# beat_of NODE: the node's beat, as the database has it
beat_of() { psql_q "SELECT beat FROM vigil_heartbeat WHERE node = '$1'"; }
transitions() { grep -cE 'node [ab]: [a-z_]+ -> [a-z_]+' "$T/vigil.log" || true; }
received_ge() { [ "$(received "$1")" -ge "$2" ]; }
spooled_ge() { [ "$(spooled "$1")" -ge "$2" ]; }
beat_newer() { [ "$(psql_q "SELECT count(*) FROM vigil_heartbeat WHERE node = '$1' AND beat > '$2'")" = 1 ]; }
delivered() { events_check; [ "$EV_LOST" = 0 ]; }

# The nodes keep their role while they cannot write (a vRO node would step
# down after a while, which would be the cluster's doing, not vigil's).
TIM+=(--db-loss-standby-ms 0)
# The flag of case (c): the query sleeps 3 s while the table has a row
# (rows, not CREATE/DROP, so that no lock waits on the sleeping queries).
psql_q "CREATE TABLE slow (flag int)" >/dev/null || t_bail "cannot create the flag table"
F_HB_QUERY="SELECT node, EXTRACT(EPOCH FROM now() - beat) * 1000 FROM vigil_heartbeat, (SELECT pg_sleep(CASE WHEN EXISTS (SELECT 1 FROM slow) THEN 3 ELSE 0 END)) s"
F_ACTIVE=1
fault_sims a:running:1 b:standby:2
# b is held: it must not promote itself when it reconnects before a does
# (a split brain the sims would make, not vigil).
simctl b standby >/dev/null
fault_receiver
fault_conf
fault_vigil
t_wait 10 "a is active" active_is '["a"]'
t_wait 5 "b is standby" state_is b standby
t_wait 5 "the heartbeat source is up" src_is up
load_start db --post-every 10
t_wait 5 "both heartbeats fresh" fresh
t_ok "the clients are served" load_flows db 5

# outage CASE INJECT RESTORE [SECONDS]: injects, waits for vigil to see
# the source down (and SECONDS more), restores, checks the outcome, and
# reports how long vigil could not read and how many answers the clients
# got meanwhile.
outage() {
	local c=$1 inject=$2 restore=$3 hold=${4:-0} d0 u0 tr0 beat_a beat_b t0 t1 n0
	d0=$(spooled heartbeat_source_down)
	u0=$(spooled heartbeat_source_up)
	tr0=$(transitions)
	beat_a=$(beat_of a)
	beat_b=$(beat_of b)
	n0=$(load_progress db)
	t0=$EPOCHREALTIME
	$inject || t_bail "$c: could not inject the fault"
	# (a restart may be over before a look at /api/status: the event)
	t_wait 10 "$c: vigil sees the source down" spooled_ge heartbeat_source_down $((d0 + 1))
	t_wait 5 "$c: heartbeat_source_down received" \
		received_ge heartbeat_source_down $((d0 + 1))
	if [ "$hold" != 0 ]; then
		sleep "$hold" # the outage itself: several failover timeouts
		t_is "$(status - heartbeat_source)" down "$c: /api/status says the source is down"
		t_is "$(status a state)/$(status b state)" running/standby \
			"$c: the nodes keep their states during the outage"
		t_is "$(status a heartbeat)" unknown "$c: a's heartbeat is unknown, not stale"
	fi
	$restore || t_bail "$c: could not restore"
	t_wait 15 "$c: vigil sees the source up again" spooled_ge heartbeat_source_up $((u0 + 1))
	t_is "$(status - heartbeat_source)" up "$c: /api/status says it is up"
	t1=$EPOCHREALTIME
	figure "db-$c" "blind_ms=$(awk "BEGIN{printf \"%d\", ($t1 - $t0) * 1000}")" \
		"served_meanwhile=$(($(load_progress db) - n0))"
	t_wait 5 "$c: heartbeat_source_up received" \
		received_ge heartbeat_source_up $((u0 + 1))
	t_wait 10 "$c: a beats again (its sim reconnected)" beat_newer a "$beat_a"
	t_wait 5 "$c: b beats again" beat_newer b "$beat_b"
	t_wait 5 "$c: and vigil sees both beats fresh" fresh
	# one failover timeout more: what the database's return could still do
	sleep 1.2
	t_is "$(status a state)/$(status b state)" running/standby "$c: a running, b standby"
	t_is "$(status - active | tr -d ' ')" '["a"]' "$c: the active set is unchanged"
	t_is "$(transitions)" "$tr0" "$c: no node changed state on the database's account"
	t_is "$(spooled heartbeat_source_down)" $((d0 + 1)) "$c: heartbeat_source_down raised once"
	t_is "$(spooled heartbeat_source_up)" $((u0 + 1)) "$c: heartbeat_source_up raised once"
	t_is "$(spooled node_down)" 0 "$c: no node_down"
}

pg_restart() { pg_start_again; }
slow_on() { psql_q "INSERT INTO slow VALUES (1)" >/dev/null; }
slow_off() { psql_q "DELETE FROM slow" >/dev/null; }

# (a) restarted
outage restart pg_restart true
# (b) stopped for 4 s
outage stop-4s pg_stop pg_start_again 4
# (c) the heartbeat query answers in 3 s; vigil waits a quarter of the
# failover timeout (250 ms) for it
outage slow-query slow_on slow_off 2

t_ok "the clients are still served" load_flows db 5
load_stop db
t_is "$LOAD_ERR" 0 "no GET failed ($LOAD_OK served)"
t_is "$LOAD_POST_ERR" 0 "no POST failed ($LOAD_POST_OK served)"
t_is "$(received node_down)$(received failover)" 00 "no node_down or failover reached the receiver"
t_wait 5 "every spooled event reached the receiver" delivered
events_check
t_is "$EV_LOST" 0 "no event lost ($EV_SPOOLED spooled, $EV_RECEIVED received)"
t_is "$EV_DUPS" 0 "no event received twice"
figure db "requests=$((LOAD_OK + LOAD_POST_OK + LOAD_ERR + LOAD_POST_ERR))" \
	"failed=$((LOAD_ERR + LOAD_POST_ERR))" "max_gap_ms=$LOAD_GAP_MS" \
	"events_spooled=$EV_SPOOLED" "events_lost=$EV_LOST" "events_dup=$EV_DUPS"

# ------------------------------------------- (d) back before the nodes
# In (a)-(c) the nodes beat again before vigil read again (its reconnect
# back-off is the longer), so the rule for the moments after the
# database's return was not put to the test. Here the nodes stay silent
# after it: vigil must wait a failover timeout from its return before it
# calls them hung, and must then call them hung. No load: a hung active
# node leaves routing, so clients would get 503s, rightly.
# log_ms ERE: the time (ms, wall clock) of the last vigil log line matching ERE
log_ms() {
	grep -E -- "$1" "$T/vigil.log" | tail -n 1 | $PY -c '
import datetime, sys
t = sys.stdin.read().split(" ", 1)[0]
print(int(datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
    tzinfo=datetime.timezone.utc).timestamp() * 1000))'
}
tr0=$(transitions)
pg_stop
t_wait 10 "silent: vigil sees the source down" src_is down
simctl a heartbeat stop >/dev/null
simctl b heartbeat stop >/dev/null
sleep 1.5 # the beats are older than the failover timeout at the return
pg_start_again || t_bail "PostgreSQL did not come back"
t_wait 15 "silent: vigil reads the database again" src_is up
t_wait 5 "silent: a, still not beating, is hung after a failover timeout" state_is a hung
t_wait 5 "silent: so is b" state_is b hung
back=$(log_ms 'heartbeat database: readable again')
hung=$(log_ms 'node a: running -> hung')
t_ok "silent: not before the database had been back for the failover timeout ($((hung - back)) ms)" \
	test "$((hung - back))" -ge 990 # (log times are to the ms)
t_is "$(transitions)" $((tr0 + 2)) "silent: no other state on the way"
simctl a heartbeat resume >/dev/null
simctl b heartbeat resume >/dev/null
t_wait 10 "silent: beating again, a is running and active" active_is '["a"]'
t_wait 5 "silent: b is standby" state_is b standby
figure db-back-before-nodes "stale_after_back_ms=$((hung - back))" "failover_timeout_ms=1000"
vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly (exit 0)"
t_done
