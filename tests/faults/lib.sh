# shellcheck shell=bash disable=SC2034
# tests/faults/lib.sh: what the fault-injection cases share, on top of the
# integration harness (tests/integration/lib.sh: TAP, PostgreSQL, simulated
# nodes, vigil). A case builds a cluster, puts a steady client load on
# vigil, injects its fault, then checks what the clients saw, what the
# operators were told and that nothing was lost:
#
#   . "$top_srcdir/tests/faults/lib.sh"
#   fault_pg                          PostgreSQL, or skip the case
#   fault_sims a:running:1 b:running:2   simulated vRO nodes (NAME:STATE:PRIO)
#   fault_receiver                    the webhook receiver ($T/recv.jsonl)
#   fault_conf                        $T/vigil.conf (see F_* below)
#   fault_vigil                       vigil started, its admin API answering
#   load_start NAME [ARGS...]         tests/faults/load.py in the background
#   load_stop NAME                    stop it; LOAD_OK LOAD_ERR LOAD_POST_OK
#                                     LOAD_POST_ERR LOAD_GAP_MS LOAD_ERRORS
#   load_progress NAME                good answers so far
#   events_check                      compares vigil's event log with what the
#                                     receiver got: EV_SPOOLED EV_RECEIVED
#                                     EV_DUPS EV_LOST (ids)
#   figure CASE KEY=VALUE...          a "# figure: CASE: ..." line, gathered
#                                     into docs/RELIABILITY.md by figures.sh
#
# fault_conf reads (all optional):
#   F_ACTIVE       cluster.active_nodes (default 0: every healthy node)
#   F_HEARTBEAT    1 (default) to watch the heartbeat table, 0 not to
#   F_HB_QUERY     health.heartbeat.query (default: vigil's)
#   F_PROBE        the probe's timings (default: every 200 ms, 200 ms
#                  timeout, rise 2, fall 2)
#   F_PROXY        extra settings in the proxy group
#   F_NOTIFY       extra settings in the notify group
#   F_TOP          extra top-level groups (hooks = {...};)
# The timings are the suite's small ones: probes and heartbeats every
# 200 ms, failover after 5 missed heartbeats (1 s), 3 s server timeout.
. "$top_srcdir/tests/integration/lib.sh"

command -v curl >/dev/null || t_skip_all "curl is not installed"
PY=/usr/bin/python3
TIM=(--interval-ms 200 --failover-heartbeats 5 --startup-ms 300)
F_LOAD=$top_srcdir/tests/faults/load.py
F_RECV=$top_srcdir/tests/integration/receiver.py
VIP=$(free_port)
ADMIN=$(free_port)
RECV_PORT=$(free_port)
RECV_PID=
F_NODES=()

fault_pg() {
	pg_start || t_skip_all "no PostgreSQL server to test against"
}

# fault_sims NAME:STATE:PRIO...: the simulated nodes, in that order
fault_sims() {
	local n name st prio
	for n in "$@"; do
		IFS=: read -r name st prio <<<"$n"
		sim_start "$name" "$st" "${TIM[@]}" --priority "$prio" ||
			t_bail "simulated node $name did not start"
		F_NODES+=("$name:$prio")
	done
}

# fault_receiver [ARGS...]: the webhook receiver on RECV_PORT (the same
# port each time, so a case can stop it and start it again)
fault_receiver() {
	bg recv $PY "$F_RECV" --port "$RECV_PORT" --out "$T/recv.jsonl" "$@"
	RECV_PID=$BG_PID
	wait_for 10 port_open "$RECV_PORT" || t_bail "the webhook receiver did not start"
}

fault_receiver_stop() {
	[ -n "$RECV_PID" ] || return 0
	_t_stop_pid "$RECV_PID" TERM 10
	RECV_PID=
}

fault_conf() {
	local n name prio nodes="" hb=""
	for n in "${F_NODES[@]}"; do
		IFS=: read -r name prio <<<"$n"
		nodes+="${nodes:+,
    }{ name = \"$name\"; address = \"127.0.0.1:$(sim_port "$name")\"; priority = $prio; }"
	done
	if [ "${F_HEARTBEAT:-1}" = 1 ]; then
		hb="heartbeat = { conninfo = \"$PG_CONNINFO\"; interval_ms = 200; failover_heartbeats = 5;"
		[ -n "${F_HB_QUERY:-}" ] && hb+=" query = \"$F_HB_QUERY\";"
		hb+=" };"
	fi
	cat >"$T/vigil.conf" <<CONF
vigil = { name = "lb-fault"; spool_dir = "$T/spool"; };
listen = ( { address = "127.0.0.1:$VIP"; } );
proxy = { connect_timeout_ms = 500; server_timeout_ms = 3000; ${F_PROXY:-} };
cluster = { name = "c"; active_nodes = ${F_ACTIVE:-0}; nodes = (
    $nodes ); };
health = {
  probe = { ${F_PROBE:-interval_ms = 200; timeout_ms = 200; rise = 2; fall = 2;}
            standby = "\"state\"\\\\s*:\\\\s*\"STANDBY\""; };
  $hb
};
notify = {
  channels = ( { type = "webhook"; url = "http://127.0.0.1:$RECV_PORT/hook"; } );
  retry_initial_ms = 100; retry_max_ms = 1000;
  ${F_NOTIFY:-}
};
admin = { address = "127.0.0.1:$ADMIN"; };
${F_TOP:-}
CONF
}

status() { vigil_status "$ADMIN" "$@"; }
state_is() { [ "$(status "$1" state)" = "$2" ]; }
active_is() { [ "$(status - active | tr -d " ")" = "$1" ]; }
log_has() { grep -qE -- "$1" "$T/vigil.log"; }

# fault_vigil [ARGS...]: vigil on $T/vigil.conf, its admin API answering
fault_vigil() {
	vigil_start "$T/vigil.conf" "$@"
	wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$ADMIN/api/status" ||
		t_bail "vigil did not start; $(tail -n 5 "$T/vigil.log")"
}

# ---------------------------------------------------------------- load

# load_start NAME [load.py ARGS...]: 4 keep-alive GET clients by default
load_start() {
	local name=$1
	shift
	rm -f "$T/$name.stop" "$T/$name.json" "$T/$name.progress"
	bg "$name" $PY "$F_LOAD" --port "$VIP" --out "$T/$name.json" \
		--stop-file "$T/$name.stop" --progress "$T/$name.progress" "$@"
	eval "LOAD_PID_$name=\$BG_PID"
	wait_for 10 test -s "$T/$name.progress" || t_bail "the load $name did not start"
}

load_progress() {
	cat "$T/$1.progress" 2>/dev/null || echo 0
}

# load_flows NAME [SECONDS]: the load got good answers within SECONDS (2)
load_flows() {
	local before
	before=$(load_progress "$1")
	wait_for "${2:-2}" bash -c "[ \$(cat '$T/$1.progress') -gt $before ]"
}

load_stop() {
	local name=$1 pid
	eval "pid=\${LOAD_PID_$name:-}"
	touch "$T/$name.stop"
	wait_for 60 test -s "$T/$name.json" || t_bail "the load $name did not stop"
	[ -n "$pid" ] && _t_stop_pid "$pid" TERM 5
	read -r LOAD_OK LOAD_ERR LOAD_POST_OK LOAD_POST_ERR LOAD_GAP_MS < <(
		$PY -c 'import json,sys; d=json.load(open(sys.argv[1]))
print(d["ok"], d["err"], d["post_ok"], d["post_err"], d["max_gap_ms"])' "$T/$name.json")
	LOAD_ERRORS=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1]))
print("; ".join(d["errors"][:5]), "statuses", json.dumps(d["statuses"]))' "$T/$name.json")
	if [ "$LOAD_ERR" != 0 ]; then
		t_diag "load $name: $LOAD_ERR GETs failed: $LOAD_ERRORS"
	fi
}

# ---------------------------------------------------------------- events

# events_check: vigil's event log against the receiver's requests.
# EV_SPOOLED ids in the log, EV_RECEIVED distinct ids received, EV_DUPS
# receipts beyond the first of an id, EV_LOST ids in the log never received;
# EV_LOST_IDS names them.
events_check() {
	read -r EV_SPOOLED EV_RECEIVED EV_DUPS EV_LOST EV_LOST_IDS < <(
		$PY - "$T/spool/events.log" "$T/recv.jsonl" <<'PY'
import json, sys
spooled = []
try:
    for line in open(sys.argv[1]):
        try:
            spooled.append(json.loads(line)["id"])
        except (ValueError, KeyError):
            pass
except OSError:
    pass
seen = {}
try:
    for line in open(sys.argv[2]):
        r = json.loads(line)
        if r.get("status") != 200:
            continue
        try:
            i = json.loads(r["body"])["id"]
        except (ValueError, KeyError):
            continue
        seen[i] = seen.get(i, 0) + 1
except OSError:
    pass
ids = set(spooled)
lost = sorted(ids - set(seen))
print(len(ids), len(seen), sum(n - 1 for n in seen.values()), len(lost),
      ",".join(lost) or "-")
PY
	)
}

# received EVENT [NODE]: how many times the receiver acknowledged an EVENT
# (of NODE)
received() {
	[ -f "$T/recv.jsonl" ] || {
		echo 0
		return
	}
	$PY - "$T/recv.jsonl" "$1" "${2:-}" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    try:
        b = json.loads(r["body"])
    except ValueError:
        continue
    if r.get("status") == 200 and b.get("event") == sys.argv[2] and \
            (not sys.argv[3] or b.get("node") == sys.argv[3]):
        n += 1
print(n)
PY
}

# spooled EVENT [NODE]: how many times EVENT (of NODE) is in vigil's log
spooled() {
	grep -c "\"event\":\"$1\",\"cluster\":\"c\"${2:+,\"node\":\"$2\"}" \
		"$T/spool/events.log" 2>/dev/null || true
}

# ---------------------------------------------------------------- figures

# figure CASE KEY=VALUE...: one line of docs/RELIABILITY.md's table
figure() {
	local c=$1
	shift
	t_diag "figure: $c: $*"
}

# fault_vigil_nofile N [ARGS...]: fault_vigil with at most N descriptors
# (ulimit -n N, soft and hard, set by a shell that then becomes vigil)
fault_vigil_nofile() {
	local n=$1
	shift
	bg vigil bash -c 'ulimit -n "$1" && shift && exec "$@"' _ "$n" \
		"$top_builddir/vigil" -c "$T/vigil.conf" "$@"
	VIGIL_PID=$BG_PID
	wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$ADMIN/api/status" ||
		t_bail "vigil did not start; $(tail -n 5 "$T/vigil.log")"
}
