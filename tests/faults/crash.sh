#!/usr/bin/env bash
# crash.sh: vigil itself is killed (SIGKILL) during a failover, under a
# steady client load, and started again on the same spool (SPEC.md
# "Events": what a channel had not acknowledged when vigil stopped, even by
# SIGKILL, is sent again; a torn last line is dropped). Five moments, in
# turn on a -> b and b -> a: in the middle of the failover timeout, about
# when vigil decides, and right after it spooled the failover while the
# (slow) receiver has it in hand. Each time the failover completes, clients
# are served by the new active node, every spooled event reaches the
# receiver (a duplicate id across the kill is allowed and counted), and the
# spool is consistent: every line of events.log one JSON event ending in a
# newline, the cursor naming an event of the log, no temporary file left.
. "$top_srcdir/tests/faults/lib.sh"

fault_pg

BACKLOG='vigil_spool_backlog{channel="webhook-1"}'
backlog_is() {
	[ "$(curl -s --max-time 2 "http://127.0.0.1:$ADMIN/metrics" |
		awk -v s="$BACKLOG" '$1 == s { print $2 }')" = "$1" ]
}
delivered() { events_check && [ "$EV_LOST" = 0 ] && backlog_is 0; }
failover_spooled() { # FROM TO
	grep -q "\"event\":\"failover\",.*\"from\":\"$1\",\"to\":\"$2\"" "$T/spool/events.log"
}
# spool_ok: the spool as SPEC.md describes it, or what is wrong with it
spool_ok() {
	$PY - "$T/spool" <<'PY'
import glob, json, os, sys
d = sys.argv[1]
bad = []
data = open(os.path.join(d, "events.log"), "rb").read()
if data and not data.endswith(b"\n"):
    bad.append("events.log does not end with a newline (a torn line)")
ids = []
for n, line in enumerate(data.split(b"\n")[:-1], 1):
    try:
        ev = json.loads(line)
        ids.append(ev["id"])
        ev["event"]
    except (ValueError, KeyError, TypeError) as e:
        bad.append("events.log:%d: not an event: %r" % (n, line[:80]))
cursors = [c for c in glob.glob(os.path.join(d, "cursor.*")) if not c.endswith(".tmp")]
if len(cursors) != 1:
    bad.append("%d cursor files, not 1" % len(cursors))
for c in cursors:
    lines = open(c).read().split("\n")
    if len(lines) != 3 or lines[2] != "":
        bad.append("%s: not two lines: %r" % (c, lines))
    elif lines[1] not in ids:
        bad.append("%s: names %r, which is not in the log" % (c, lines[1]))
left = glob.glob(os.path.join(d, "*.tmp"))
if left:
    bad.append("temporary files left: %s" % left)
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}

F_ACTIVE=1
fault_sims a:running:1 b:standby:2
# A slow receiver: each event is in flight for 300 ms, a window for the kill.
fault_receiver --delay-ms 300
fault_conf
fault_vigil
t_wait 10 "a is active" active_is '["a"]'
t_wait 5 "b is standby" state_is b standby
load_start crash
t_ok "the clients are served" load_flows crash 5

# crash FROM TO MOMENT: FROM shuts down; vigil is killed MOMENT seconds
# later, or, for "failover+S", S seconds after it spooled the failover
crash() {
	local from=$1 to=$2 moment=$3 before after
	simctl "$from" shutdown >/dev/null
	if [ "${moment#failover+}" != "$moment" ]; then
		wait_for 10 failover_spooled "$from" "$to" || t_diag "no failover spooled before the kill"
		moment=${moment#failover+}
	fi
	sleep "$moment"
	kill -KILL "$VIGIL_PID"
	wait "$VIGIL_PID" 2>/dev/null
	_t_untrack "$VIGIL_PID"
	VIGIL_PID=
	kills=$((kills + 1))
	failover_spooled "$from" "$to" && decided=$((decided + 1))
	fault_vigil
	t_wait 15 "$3: the failover completes after the restart: $to active" \
		active_is "[\"$to\"]"
	before=$(status "$to" requests)
	t_ok "$3: clients are served" load_flows crash 5
	after=$(status "$to" requests)
	t_ok "$3: by $to" test "${after:-0}" -gt "${before:-0}"
	t_wait 15 "$3: every spooled event reached the receiver" delivered
	t_ok "$3: the spool is consistent" spool_ok
	t_ok "$3: the failover $from -> $to was told" failover_spooled "$from" "$to"
	simctl "$from" restart >/dev/null
	t_wait 15 "$3: $from is back, as a standby" state_is "$from" standby
	t_wait 10 "$3: its node_up delivered" delivered
}

kills=0
decided=0
crash a b 0.3          # a not yet judged; the failover timeout runs
crash b a 0.9          # b judged unreachable, its beat not yet stale
crash a b 1.5          # about when b promotes and vigil decides
crash b a failover+0   # the failover spooled, its delivery in flight
crash a b failover+0.2 # the same, a little later

load_stop crash
events_check
t_is "$EV_LOST" 0 "no event lost across $kills kills ($EV_SPOOLED spooled)"
t_diag "events received twice (allowed across a kill): $EV_DUPS"
# What the clients saw: 503 while no node was active (the failover
# timeout), 502 for a request the dying node refused when no other node
# was active to retry it on, no answer while vigil was down.
read -r n503 n502 nother < <($PY -c 'import json,sys
s = json.load(open(sys.argv[1]))["statuses"]
print(s.get("503", 0), s.get("502", 0),
      sum(n for k, n in s.items() if k not in ("200", "502", "503")))' "$T/crash.json")
t_is "$nother" 0 "no other status than 200, 502 and 503"
t_diag "clients: $LOAD_ERR failed GETs: $LOAD_ERRORS"
t_is "$(status - active | tr -d ' ')" '["b"]' "b is active in the end"
figure crash "requests=$((LOAD_OK + LOAD_ERR))" "failed=$LOAD_ERR" \
	"failed_503=$n503" "failed_502=$n502" \
	"failed_no_answer=$((LOAD_ERR - n503 - n502 - nother))" \
	"max_gap_ms=$LOAD_GAP_MS" "kills=$kills" "kills_after_decision=$decided" \
	"events_spooled=$EV_SPOOLED" "events_lost=$EV_LOST" "events_dup=$EV_DUPS"
vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly (exit 0)"
t_done
