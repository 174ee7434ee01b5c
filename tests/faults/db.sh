#!/usr/bin/env bash
# db.sh: the heartbeat database misbehaves under a steady client load, and
# vigil must not blame the nodes (SPEC.md "How vigil decides": while the
# database cannot be read the evidence is unknown, and after it comes back
# a beat is stale only once the database has been back for a failover
# timeout). Three outages: PostgreSQL (a) restarted, (b) stopped for 4 s,
# four failover timeouts, (c) answering the heartbeat query slower than
# vigil waits for it. Each: no node leaves running/standby, the active set
# and the clients are untouched, heartbeat_source_down and _up reach the
# receiver once each, and the nodes beat again afterwards.
. "$top_srcdir/tests/faults/lib.sh"

fault_pg

src_is() { [ "$(status - heartbeat_source)" = "$1" ]; }
fresh() { [ "$(status a heartbeat)" = fresh ] && [ "$(status b heartbeat)" = fresh ]; }
# beat_of NODE: the node's beat, as the database has it
beat_of() { psql_q "SELECT beat FROM vigil_heartbeat WHERE node = '$1'"; }
transitions() { grep -cE 'node [ab]: [a-z_]+ -> [a-z_]+' "$T/vigil.log" || true; }
received_ge() { [ "$(received "$1")" -ge "$2" ]; }
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
	t_wait 10 "$c: vigil sees the source down" src_is down
	t_wait 5 "$c: heartbeat_source_down received" \
		received_ge heartbeat_source_down $((d0 + 1))
	if [ "$hold" != 0 ]; then
		sleep "$hold" # the outage itself: several failover timeouts
		t_is "$(status a state)/$(status b state)" running/standby \
			"$c: the nodes keep their states during the outage"
		t_is "$(status a heartbeat)" unknown "$c: a's heartbeat is unknown, not stale"
	fi
	$restore || t_bail "$c: could not restore"
	t_wait 15 "$c: vigil sees the source up again" src_is up
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
vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly (exit 0)"
t_done
