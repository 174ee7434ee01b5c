#!/usr/bin/env bash
# reload.sh: SIGHUP every second for 30 s under a steady load of GETs and
# POSTs (SPEC.md "Command line": a reload never drops an established
# client connection; an invalid file keeps the old configuration). The
# file alternates between two valid variants (the probe's interval and the
# webhook's URL differ), and once it is invalid. No node dies here, so
# every request must succeed; vigil's descriptors and memory must not grow
# with the reloads.
. "$top_srcdir/tests/faults/lib.sh"

fault_pg

RELOADS=30
fds() { find "/proc/$VIGIL_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
fds_le() { [ "$(fds)" -le "$1" ]; }
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$VIGIL_PID/status"; }
reloaded() { [ "$(grep -c 'configuration reloaded' "$T/vigil.log")" -ge "$1" ]; }
refused() { grep -q 'reload failed' "$T/vigil.log"; }
delivered() { events_check && [ "$EV_LOST" = 0 ]; }

F_ACTIVE=1
fault_sims a:running:1 b:standby:2
fault_receiver
fault_conf
# variant B: the probe every 300 ms, the webhook at another URL (a new
# channel); the invalid one: rise out of range
cp "$T/vigil.conf" "$T/conf-a"
sed -e 's/probe = { interval_ms = 200;/probe = { interval_ms = 300;/' \
	-e "s|/hook\"|/hook-b\"|" "$T/conf-a" >"$T/conf-b"
sed -e 's/rise = 2;/rise = 0;/' "$T/conf-a" >"$T/conf-bad"
t_ok "variant B differs from A" bash -c "! cmp -s '$T/conf-a' '$T/conf-b'"
for c in a b bad; do "$top_builddir/vigil" -c "$T/conf-$c" -t >"$T/t-$c.out" 2>&1; echo $? >"$T/t-$c.rc"; done
t_is "$(cat "$T/t-a.rc")$(cat "$T/t-b.rc")$(cat "$T/t-bad.rc")" 001 "vigil -t: A and B valid, the bad one not"

# reload VARIANT: the file becomes conf-VARIANT, then SIGHUP
reload() {
	cp "$T/conf-$1" "$T/vigil.conf"
	kill -HUP "$VIGIL_PID"
}

fault_vigil
t_wait 10 "a is active" active_is '["a"]'
t_wait 5 "b is standby" state_is b standby
# Warm-up: both channels and a second heartbeat connection made once.
# Then the descriptors are counted with no client: each POST of the load
# opens a connection to a that idles in the worker's pool for 15 s.
ok_reloads=0
for c in b a; do
	reload "$c"
	ok_reloads=$((ok_reloads + 1))
	t_wait 5 "warm-up reload to $c" reloaded "$ok_reloads"
done
sleep 1
fd0=$(fds)
load_start reload --post-every 5
t_ok "the clients are served" load_flows reload 5

# One reload a second; the 10th is the invalid file. Memory is first
# measured after the 3rd, then at the end, under the same load.
for i in $(seq 1 "$RELOADS"); do
	if [ "$i" = 10 ]; then
		reload bad
		t_wait 5 "reload $i (invalid) is refused" refused
		t_like "$(grep -B3 'reload failed' "$T/vigil.log")" "health.probe.rise" \
			"the error names the setting"
		t_is "$(status a state)/$(status - active | tr -d ' ')" 'running/["a"]' \
			"vigil goes on with the previous configuration"
	else
		reload "$([ $((i % 2)) = 1 ] && echo b || echo a)"
		ok_reloads=$((ok_reloads + 1))
		wait_for 5 reloaded "$ok_reloads" || t_diag "reload $i not logged"
	fi
	[ "$i" = 3 ] && rss0=$(rss_kib)
	sleep 1
done
t_is "$(grep -c 'configuration reloaded' "$T/vigil.log")" "$ok_reloads" \
	"all $ok_reloads valid reloads done"
t_is "$(grep -c 'reload failed' "$T/vigil.log")" 1 "one refused"
t_is "$(status - active | tr -d ' ')" '["a"]' "a is still the active node"
rss1=$(rss_kib)
fdload=$(fds)
t_ok "the clients are still served" load_flows reload 5
load_stop reload
t_is "$LOAD_ERR" 0 "no GET failed ($LOAD_OK served)"
t_is "$LOAD_POST_ERR" 0 "no POST failed ($LOAD_POST_OK served)"
# One leaked per reload would be 30 more; the probes' connections may
# come and go.
t_wait 30 "no descriptor leaked: back to $fd0 (from $fdload) once the pool idled out" \
	fds_le $((fd0 + 2))
fd1=$(fds)
if ldd "$top_builddir/vigil" 2>/dev/null | grep -q libasan; then
	t_skip "memory does not grow" "ASan build: its allocator's RSS says nothing"
else
	# generous: allocator arenas settle, the load varies
	t_ok "memory does not grow (VmRSS $rss0 KiB after 3 reloads, $rss1 KiB after $RELOADS)" \
		test "$rss1" -le $((rss0 + 2048))
fi
t_wait 5 "every event reached the receiver" delivered
events_check
t_is "$EV_LOST" 0 "no event lost ($EV_SPOOLED spooled, $(spooled config_reloaded) config_reloaded)"
t_is "$EV_DUPS" 0 "none received twice"
figure reload "requests=$((LOAD_OK + LOAD_ERR + LOAD_POST_OK + LOAD_POST_ERR))" \
	"failed=$((LOAD_ERR + LOAD_POST_ERR))" "posts=$((LOAD_POST_OK + LOAD_POST_ERR))" \
	"reloads_under_load=$RELOADS" "refused=1" "fds_before=$fd0" "fds_after=$fd1" "fds_under_load=$fdload" \
	"rss_kib_before=$rss0" "rss_kib_after=$rss1" "max_gap_ms=$LOAD_GAP_MS" \
	"events_lost=$EV_LOST" "events_dup=$EV_DUPS"
vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly (exit 0)"
t_done
