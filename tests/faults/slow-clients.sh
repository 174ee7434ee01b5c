#!/usr/bin/env bash
# slow-clients.sh: 1,000 slowloris connections (a request head one byte a
# second), 20 clients that stop reading a big answer and 10 that read it
# slowly, while normal clients use the VIP. SPEC.md's timeouts end the
# first two kinds (client_header_timeout_ms: 408; server_timeout_ms when
# the client does not read) and vigil closes them; the slow readers and
# the normal clients are served; vigil's memory stays bounded.
. "$top_srcdir/tests/faults/lib.sh"

LORIS=1000
STALLED=20
TRICKLE=10

fault_pg
fault_sims a:running:1 b:running:2
fault_receiver
F_PROXY="client_header_timeout_ms = 3000;"
# Two cores shared with the rest of the suite and 1,000 connections timing
# out together: probes get two seconds before a node counts as failed, and
# heartbeats are not watched, since the suite's failover timeout (1 s) is
# shorter than the stalls a starved simulated node has there (what is
# tested here is the proxy, not how fast a failure is seen).
F_PROBE="interval_ms = 500; timeout_ms = 500; rise = 2; fall = 4;"
F_HEARTBEAT=0
fault_conf
# Two descriptors per client connection, and some for vigil itself.
fault_vigil_nofile 4096
t_wait 10 "two nodes active" active_is '["a","b"]'

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$VIGIL_PID/status"; }
# established: connections to the VIP vigil holds open
established() { ss -Htn state established "( sport = :$VIP )" | wc -l; }
at_most() { [ "$(established)" -le "$1" ]; }
ASAN=
ldd "$top_builddir/vigil" 2>/dev/null | grep -q libasan && ASAN=1

load_start sc --conns 4
rss0=$(rss)
bg slow $PY "$top_srcdir/tests/faults/slow.py" --port "$VIP" --out "$T/slow.json" \
	--ready "$T/slow.ready" --stop-file "$T/slow.stop" \
	--loris "$LORIS" --stalled "$STALLED" --trickle "$TRICKLE"
t_wait 30 "$((LORIS + STALLED + TRICKLE)) slow connections opened" test -s "$T/slow.ready"
filter=
for p in $(cut -d' ' -f2- "$T/slow.ready"); do filter+="${filter:+ or }dport = :$p"; done
# vigil's side of the stalled connections still open (fails when ss does)
stalled_open() { ss -Htn state established "( sport = :$VIP ) and ( $filter )" | grep -c . || true; }
stalled_none() { local n; n=$(stalled_open) && [ "$n" = 0 ]; }
t_is "$(stalled_open)" "$STALLED" "vigil holds the $STALLED stalled connections, told by their ports"
open_max=$(established)
t_ok "vigil took them all ($open_max connections established)" \
	test "$open_max" -ge $((LORIS + STALLED + TRICKLE))

# While the timeouts run: the load flows, vigil's RSS is sampled; then only
# the normal clients and the slow readers are left.
peak=0
left=$((4 + TRICKLE))
flows=0 samples=0
for _ in $(seq 1 100); do
	r=$(rss)
	[ "$r" -gt "$peak" ] && peak=$r
	samples=$((samples + 1))
	load_flows sc 2 && flows=$((flows + 1))
	at_most "$left" && break
done
t_is "$flows" "$samples" "the load flowed at every one of $samples moments"
t_wait 10 "vigil closed every slowloris and stalled connection" at_most "$left"
# The count above includes the load's connections, which come and go: the
# stalled ones, by their ports, must be gone from vigil's side before the
# stop (after it they read on, and would get the whole answer).
t_wait 20 "vigil cut every client that stopped reading (server_timeout_ms)" stalled_none
t_ok "the slow readers are still served" load_flows sc 2
touch "$T/slow.stop"
t_wait 30 "the slow clients are done" test -s "$T/slow.json"
read -r opened loris408 lorisclosed lorisopen stalledcut tricklecut tricklemin stuck < <(
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["loris_status"]
print(d["opened"], s.get("408", 0), s.get("closed", 0), d["loris_open"],
      d["stalled_cut"], d["trickle_cut"], d["trickle_bytes_min"], d["stuck"])' "$T/slow.json")
t_is "$stuck" 0 "no slow client was left waiting on vigil after the stop"
t_is "$opened" $((LORIS + STALLED + TRICKLE)) "every slow connection had opened"
t_is "$loris408" "$LORIS" "every slowloris connection got 408"
t_is "$lorisopen" 0 "none was left open"
t_is "$stalledcut" "$STALLED" "every client that stopped reading was cut"
t_is "$tricklecut" 0 "no slow reader was cut"
t_ok "each slow reader got more than its first 16 KiB ($tricklemin bytes at least)" \
	test "$tricklemin" -gt 16384
rss1=$(rss)
t_diag "vigil's RSS: $rss0 KiB before, $peak KiB at most with the slow clients, $rss1 KiB after"
if [ -n "$ASAN" ]; then
	t_skip "vigil's memory stays bounded" "RSS means nothing under AddressSanitizer"
else
	# A session with its buffers is about 40 KiB at most (two 16 KiB
	# buffers); 1,030 of them: 40 MiB. Idle slowloris need far less.
	t_ok "vigil's memory stays bounded (peak under 64 MiB)" test "$peak" -lt 65536
fi
load_stop sc
t_is "$LOAD_ERR" 0 "no GET of the normal clients failed ($LOAD_OK answered)"
t_wait 10 "once the clients are gone, vigil holds no connection" at_most 0
events_check

figure slow-clients loris=$LORIS loris_408=$loris408 stalled_cut=$stalledcut \
	trickle_cut=$tricklecut requests=$((LOAD_OK + LOAD_ERR)) failed=$LOAD_ERR \
	max_gap_ms=$LOAD_GAP_MS rss_kib_before=$rss0 rss_kib_peak=$peak rss_kib_after=$rss1 \
	events_lost=$EV_LOST

vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly"
t_done
