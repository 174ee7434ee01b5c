#!/usr/bin/env bash
# fdlimit.sh: vigil under a small descriptor limit (ulimit -n 64) while 200
# idle clients connect to the VIP, more than it has descriptors for. vigil
# must live, say so in its log without a line per refusal, keep serving
# the clients it has, keep probing, polling the database and notifying
# (those need descriptors too), and serve new clients again once the idle
# ones go.
. "$top_srcdir/tests/faults/lib.sh"

NOFILE=64
IDLE=200

fault_pg
fault_sims a:running:1 b:running:2 c:running:3
fault_receiver
# The idle clients stay until the test lets them go.
F_PROXY="client_header_timeout_ms = 60000;"
F_NOTIFY="flap_changes = 0;"
# What is tested is a node blamed for vigil's lack of descriptors, not a
# probe late on two cores the rest of the suite shares (under the
# sanitizers too): probes get half a second.
F_PROBE="interval_ms = 500; timeout_ms = 500; rise = 2; fall = 2;"
fault_conf
# Too few to serve anyone: a clear start failure, exit 2.
st=0
timeout 10 bash -c 'ulimit -n 24 && exec "$@"' _ "$top_builddir/vigil" -c "$T/vigil.conf" \
	>/dev/null 2>"$T/low.err" || st=$?
t_is "$st" 2 "under ulimit -n 24 vigil does not start (exit 2)"
t_like "$(cat "$T/low.err")" "descriptor limit \(ulimit -n 24\) leaves none for clients" \
	"and says why"
fault_vigil_nofile "$NOFILE"
t_wait 10 "vigil runs under ulimit -n $NOFILE: three nodes active" active_is '["a","b","c"]'
t_ok "the limit is logged at start" log_has 'descriptor limit 64 \(ulimit -n\), [0-9]+ kept for vigil.s own work: at most [0-9]+ client connections'
t_diag "$(grep 'descriptor limit' "$T/vigil.log")"

vigil_fds() { find "/proc/$VIGIL_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
got() { [ "$(received "$1" "$2")" -ge "$3" ]; }
served() { curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$VIP/$1" | grep -qx 200; }
no_event_lost() {
	events_check
	[ "$EV_LOST" = 0 ]
}

load_start fd --conns 4
# IDLE connections that send nothing, held until $T/idle.stop exists;
# $T/idle.count says how many the kernel took.
cat >"$T/idle.py" <<'PY'
import os, socket, sys, time
port, n, base = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conns = []
for _ in range(n):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
        conns.append(s)
    except OSError as e:
        print("connect:", e, file=sys.stderr)
with open(base + ".count.tmp", "w") as f:
    f.write("%d\n" % len(conns))
os.replace(base + ".count.tmp", base + ".count")
while not os.path.exists(base + ".stop"):
    time.sleep(0.1)
PY
bg idle $PY "$T/idle.py" "$VIP" "$IDLE" "$T/idle"
t_wait 20 "$IDLE idle clients connected" test -s "$T/idle.count"
t_is "$(cat "$T/idle.count")" "$IDLE" "the kernel took all $IDLE (vigil's listen backlog)"
fds=$(vigil_fds)
t_ok "vigil lives at the limit ($fds descriptors open)" kill -0 "$VIGIL_PID"

# At the limit, for a few seconds: the clients it has go on, its health
# checks and notifications too.
for i in 1 2 3; do
	t_ok "at the limit: the load flows ($i)" load_flows fd 5
done
t_ok "at the limit: every node still running" \
	bash -c "[ \"\$(curl -s http://127.0.0.1:$ADMIN/api/status | grep -o '\"state\":\"running\"' | wc -l)\" = 3 ]"
simctl c http500 on >/dev/null
t_wait 10 "at the limit: c's failing REST API is seen (probes work)" state_is c unreachable
t_wait 10 "at the limit: node_down reached the receiver (notify works)" got node_down c 1
simctl c http500 off >/dev/null
t_wait 10 "at the limit: c is running again" state_is c running
t_wait 10 "at the limit: node_up reached the receiver" got node_up c 1
t_is "$(received node_down a)$(received node_down b)$(received all_down)" "000" \
	"no node was reported down for lack of descriptors"
[ "$T_LAST" = 0 ] || t_diag "$(grep -h '"node_down"' "$T/spool/events.log")"
# A new client waits in the listen backlog, behind the idle ones.
bg newcomer curl -s --max-time 60 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$VIP/newcomer"
refusals=$(grep -c 'wait in the listen backlog' "$T/vigil.log" || true)
t_diag "$(grep 'wait in the listen backlog' "$T/vigil.log" | head -n 3)"
t_is "$refusals" 1 "the limit is logged once (a minute), not once per connection held up"

# The idle clients go: vigil takes the waiting connections (which closed),
# then new clients.
touch "$T/idle.stop"
t_wait 20 "after the idle clients left, a new client is served" served after
t_wait 70 "and the one that waited in the backlog was served" test -s "$T/newcomer.log"
t_is "$(cat "$T/newcomer.log")" 200 "it got 200"
t_ok "the load still flows" load_flows fd 5
load_stop fd
t_is "$LOAD_ERR" 0 "the clients vigil had kept were served throughout ($LOAD_OK answered)"
simctl b http500 on >/dev/null
t_wait 10 "after: probes and notifications still work (b down)" got node_down b 1
simctl b http500 off >/dev/null
t_wait 10 "after: b up again" got node_up b 1
t_wait 10 "every event vigil raised reached the receiver" no_event_lost
t_ok "vigil's descriptors are back down ($(vigil_fds))" test "$(vigil_fds)" -lt "$fds"

figure fdlimit nofile=$NOFILE idle_clients=$IDLE fds_at_limit=$fds \
	requests=$((LOAD_OK + LOAD_ERR)) failed=$LOAD_ERR max_gap_ms=$LOAD_GAP_MS \
	limit_log_lines=$refusals events_lost=$EV_LOST

vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly"
t_done
