#!/usr/bin/env bash
# receiver.sh: the webhook receiver is away while the cluster fails over,
# under a steady client load (SPEC.md "Events": at least once, in order,
# retried with a back-off that doubles up to retry_max_ms, forever).
# (1) The receiver is down for a minute while a fails over to c and c back
# to a; (2) it answers 500 for a while during another failover. Then every
# event reaches it exactly once and in the order of the log, vigil's tries
# stayed at the capped back-off, and no client noticed: with two active
# nodes, b serves while the others come and go.
. "$top_srcdir/tests/faults/lib.sh"

fault_pg

# metric SAMPLE: the value of one sample of GET /metrics (0 when absent)
metric() {
	curl -s --max-time 2 "http://127.0.0.1:$ADMIN/metrics" |
		awk -v s="$1" '$1 == s { v = $2 } END { print v + 0 }'
}
FAILED='vigil_notifications_total{channel="webhook-1",result="failed"}'
BACKLOG='vigil_spool_backlog{channel="webhook-1"}'
spooled_ge() { [ "$(spooled "$1" "${2:-}")" -ge 1 ]; }
backlog_is() { [ "$(metric "$BACKLOG")" = "$1" ]; }
delivered() { events_check && [ "$EV_LOST" = 0 ] && backlog_is 0; }
# in_order: the receiver acknowledged the events in the order of the log,
# each once
in_order() {
	$PY - "$T/spool/events.log" "$T/recv.jsonl" <<'PY'
import json, sys
log = [json.loads(l)["id"] for l in open(sys.argv[1])]
got = []
for l in open(sys.argv[2]):
    r = json.loads(l)
    if r["status"] == 200:
        got.append(json.loads(r["body"])["id"])
if got != log:
    print("log:     ", log)
    print("received:", got)
    sys.exit(1)
PY
}
# delays SINCE: the back-off delays vigil announced ("try N again in D s")
# in the log lines after line SINCE, one a line
delays() {
	tail -n +"$(($1 + 1))" "$T/vigil.log" |
		sed -nE 's/.*webhook channel 1 .* not delivered .*; try [0-9]+ again in ([0-9.]+) s$/\1/p'
}
# failover FROM TO ACTIVE: FROM shuts down, TO takes its place (the active
# set is then ACTIVE), FROM comes back as a standby
failover() {
	local from=$1 to=$2
	simctl "$from" shutdown >/dev/null
	t_wait 15 "$from shut down: $to takes its place" active_is "$3"
	t_wait 5 "the failover $from -> $to is spooled" \
		grep -q "\"event\":\"failover\",.*\"from\":\"$from\",\"to\":\"$to\"" "$T/spool/events.log"
	simctl "$from" restart >/dev/null
	t_wait 15 "$from is back, as a standby" state_is "$from" standby
	t_wait 5 "node_up $from is spooled" spooled_ge node_up "$from"
}

F_ACTIVE=2
TIM+=(--active-nodes 2)
fault_sims a:running:1 b:running:2 c:standby:3
fault_receiver
fault_conf
fault_vigil
t_wait 10 "a and b are active" active_is '["a","b"]'
t_wait 5 "c is standby" state_is c standby
load_start recv
t_ok "the clients are served" load_flows recv 5

# ---------------------------------------------------------------- (1) down
fault_receiver_stop
t0=$EPOCHREALTIME
line0=$(wc -l <"$T/vigil.log")
failed0=$(metric "$FAILED")
failover a c '["b","c"]'
failover c a '["a","b"]'
t_ok "the events wait in the spool (backlog $(metric "$BACKLOG"))" \
	test "$(metric "$BACKLOG")" -ge 6
# the rest of the minute the receiver is away
sleep "$(awk "BEGIN{d = 60 - ($EPOCHREALTIME - $t0); print (d > 0 ? d : 0)}")"
down_s=$(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}")
tries=$(($(metric "$FAILED") - failed0))
fault_receiver
t1=$EPOCHREALTIME
t_wait 10 "the receiver back: everything delivered" delivered
back_ms=$(awk "BEGIN{printf \"%d\", ($EPOCHREALTIME - $t1) * 1000}")
max=$(delays "$line0" | sort -n | tail -1)
t_is "$max" 1.0 "the back-off grew to retry_max_ms (1 s) and no further"
t_is "$(delays "$line0" | tail -n 20 | sort -u)" 1.0 "and stayed there"
# 0.1 + 0.2 + 0.4 + 0.8 s, then one try a second
t_ok "vigil kept trying, at most once a second ($tries tries in $down_s s)" \
	awk "BEGIN{exit !($tries >= 10 && $tries <= $down_s + 6)}"
events_check
t_is "$EV_LOST" 0 "no event lost ($EV_SPOOLED spooled)"
t_is "$EV_DUPS" 0 "none received twice"
t_ok "received in the order of the log" in_order
t_is "$(received failover)" 2 "both failovers received"
figure receiver-down "down_s=$down_s" "events_pending=$EV_SPOOLED" "tries=$tries" \
	"delivered_after_ms=$back_ms" "events_lost=$EV_LOST" "events_dup=$EV_DUPS"

# ---------------------------------------------------------------- (2) 500
# 15 answers 500, then 200: about 12 s at the capped back-off
fault_receiver_stop
fault_receiver --status-seq "$(printf '500,%.0s' $(seq 15))200"
t0=$EPOCHREALTIME
line0=$(wc -l <"$T/vigil.log")
failed0=$(metric "$FAILED")
n500=$(grep -c '"status": 500' "$T/recv.jsonl" || true)
failover b c '["a","c"]'
t_wait 30 "after 15 answers 500, everything delivered" delivered
err_s=$(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}")
tries=$(($(metric "$FAILED") - failed0))
t_is "$(($(grep -c '"status": 500' "$T/recv.jsonl") - n500))" 15 "the receiver answered 500 15 times"
t_is "$tries" 15 "vigil counted each as a failed try"
t_is "$(delays "$line0" | sort -n | tail -1)" 1.0 "the back-off is capped at 1 s"
events_check
t_is "$EV_LOST" 0 "no event lost ($EV_SPOOLED spooled)"
t_is "$EV_DUPS" 0 "none acknowledged twice"
t_ok "acknowledged in the order of the log" in_order
figure receiver-500 "answers_500=15" "delivered_after_s=$err_s" "tries=$tries" \
	"events_lost=$EV_LOST" "events_dup=$EV_DUPS"

t_ok "the clients are still served" load_flows recv 5
load_stop recv
t_is "$LOAD_ERR" 0 "no GET failed ($LOAD_OK served) through three failovers"
t_is "$(status - active | tr -d ' ')" '["a","c"]' "a and c are active"
figure receiver "requests=$((LOAD_OK + LOAD_ERR))" "failed=$LOAD_ERR" \
	"max_gap_ms=$LOAD_GAP_MS" "events_spooled=$EV_SPOOLED" \
	"events_lost=$EV_LOST" "events_dup=$EV_DUPS"
vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly (exit 0)"
t_done
