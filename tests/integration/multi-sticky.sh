#!/usr/bin/env bash
# multi-sticky.sh: stickiness across several appliances (issue 8). Two
# vigils, A and B, front the same three simulated nodes, all active
# (active_nodes = 0), and share one cluster.stickiness.secret_file, so that
# a cookie either of them sets routes the client alike on the other:
#
#  - a client's cookie from A keeps it on one node through 20 requests that
#    alternate B, A, B, ..., and the same starting at B;
#  - distinct clients spread over the nodes, each staying on its own across
#    both appliances;
#  - a third vigil, C, with another key does not honour A's cookies (nor A
#    C's): it routes the client anew and sets a cookie of its own;
#  - in source mode (two more vigils, no cookie, no key) both pick the same
#    node for the same client address, even while one of them is busy;
#  - when a client's node stops, A and B both send it to the same other
#    node with the same new cookie, which then holds on either.
#
# In cookie mode a new client goes to the node with the fewest connections,
# ties broken by a hash of its address: idle appliances would agree on
# every client even without the cookie. So the clients that test the cookie
# make their first request while a request of theirs holds the node their
# address hashes to, and get a cookie for another node: an appliance that
# ignored the cookie would send them elsewhere. Clients come from distinct
# loopback addresses (127.0.0.N, as in proxy.sh): from one address, idle
# appliances send every new client to the same node. No database: the
# nodes are judged on their probes alone.
. "$top_srcdir/tests/integration/lib.sh"

command -v curl >/dev/null || t_skip_all "curl is not installed"
PY=/usr/bin/python3
[ -x "$PY" ] || t_skip_all "python3 is not installed"

NODES=(n1 n2 n3)
declare -A VIP=() ADM=() APID=()

head -c 32 /dev/urandom >"$T/key1"
head -c 32 /dev/urandom >"$T/key2"
chmod 600 "$T/key1" "$T/key2"

# appliance NAME MODE [KEYFILE]: a vigil named lb-NAME in front of the
# three nodes, with stickiness MODE and KEYFILE as its cookie key; log in
# $T/vigil-NAME.log.
appliance() {
	local name=$1 mode=$2 key=${3:-} nodes="" n secret=""
	for n in "${NODES[@]}"; do
		nodes+="${nodes:+, }{ name = \"$n\"; address = \"127.0.0.1:$(sim_port "$n")\"; }"
	done
	[ -n "$key" ] && secret="secret_file = \"$key\";"
	VIP[$name]=$(free_port)
	ADM[$name]=$(free_port)
	cat >"$T/vigil-$name.conf" <<CONF
vigil = { name = "lb-$name"; workers = 1; spool_dir = "$T/spool-$name";
          log = { level = "${VIGIL_LOG_LEVEL:-info}"; }; };
listen = ( { address = "127.0.0.1:${VIP[$name]}"; } );
proxy = { connect_timeout_ms = 500; server_timeout_ms = 10000; };
cluster = { name = "c"; active_nodes = 0;
            stickiness = { mode = "$mode"; $secret };
            nodes = ( $nodes ); };
health = { probe = { interval_ms = 200; timeout_ms = 200; rise = 1; fall = 2; }; };
admin = { address = "127.0.0.1:${ADM[$name]}"; };
CONF
	bg "vigil-$name" "${VIGIL_CMD[@]}" -c "$T/vigil-$name.conf"
	APID[$name]=$BG_PID
}
appliance_stop() {
	_t_stop_pid "${APID[$1]}" TERM 10
	t_is "$_T_STATUS" 0 "lb-$1 stops cleanly"
}

# status NAME: lb-NAME's GET /api/status
status() { curl -s --max-time 2 "http://127.0.0.1:${ADM[$1]}/api/status"; }
# active NAME: lb-NAME's active set, sorted, space-separated
active() {
	status "$1" | $PY -c 'import json, sys; print(" ".join(sorted(json.load(sys.stdin)["active"])))'
}
active_is() { [ "$(active "$1")" = "$2" ]; }
# busy NAME: the nodes lb-NAME is forwarding a client to now
busy() {
	status "$1" | $PY -c '
import json, sys
print(" ".join(n["name"] for n in json.load(sys.stdin)["nodes"] if n["connections"]))'
}
has_busy() { [ -n "$(busy "$1")" ]; }
busy_is() { [ "$(busy "$1")" = "$2" ]; }
idle() { [ -z "$(busy "$1")" ] && [ -n "$(status "$1")" ]; }

# hit NAME SRC COOKIES [PATH]: one request to lb-NAME from the address SRC;
# COOKIES is a curl cookie jar (a path: read, then updated), a cookie
# value (sent as VIGILNODE=VALUE) or "-" (none). Prints "NODE SET": the
# node that answered (its X-Node header) and the cookie value vigil set,
# or "-" when it set none.
hit() {
	local name=$1 src=$2 cookies=$3 path=${4:-/} args=() node set
	case $cookies in
	-) ;;
	/*) args=(-b "$cookies" -c "$cookies") ;;
	*) args=(-b "VIGILNODE=$cookies") ;;
	esac
	: >"$T/hit.h"
	curl -s --max-time 5 --interface "$src" "${args[@]}" -D "$T/hit.h" \
		-o /dev/null "http://127.0.0.1:${VIP[$name]}$path"
	node=$(tr -d '\r' <"$T/hit.h" | sed -n 's/^[Xx]-[Nn]ode: //p')
	set=$(tr -d '\r' <"$T/hit.h" | sed -n 's/^[Ss]et-[Cc]ookie: VIGILNODE=\([^;]*\);.*/\1/p')
	echo "${node:-none} ${set:--}"
}
# alternate N SRC COOKIES NAME1 NAME2: N requests, to NAME1, NAME2, NAME1,
# ...; prints the distinct "NODE SET" lines (one line: the same node each
# time, and no cookie set).
alternate() {
	local n=$1 src=$2 cookies=$3 i
	for ((i = 0; i < n; i++)); do
		if ((i % 2 == 0)); then hit "$4" "$src" "$cookies" "/alt$i"; else hit "$5" "$src" "$cookies" "/alt$i"; fi
	done | sort | uniq -c | awk '{print $2 " " $3 " x" $1}' | tr '\n' ' ' | sed 's/ $//'
}
field() { echo "$1" | awk -v f="$2" '{print $f}'; }

# sticky_client NAME OTHER SRC JAR: a client from SRC makes its first
# request to lb-NAME while a slow request of its own holds the node its
# address hashes to (so that its cookie names another node), then 20
# requests alternating OTHER, NAME, ... with its cookie jar. Sets FIRST
# ("NODE SET" of the first request) and HASHED (the held node).
sticky_client() {
	local name=$1 other=$2 src=$3 jar=$4 slow
	bg "slow-$name" curl -s --max-time 20 --interface "$src" "http://127.0.0.1:${VIP[$name]}/slow?ms=8000"
	slow=$BG_PID
	wait_for 10 has_busy "$name" || t_diag "the slow request did not reach a node"
	HASHED=$(busy "$name")
	FIRST=$(hit "$name" "$src" "$jar")
	_t_stop_pid "$slow" TERM 5 1
	wait_for 10 idle "$name" || t_diag "lb-$name did not become idle"
	t_like "$FIRST" '^(n[0-9]) \1\.[A-Za-z0-9_-]{22}$' \
		"lb-$name: the first request gets a cookie for the node it went to"
	t_ok "which is not the node its address hashes to ($HASHED, held by its slow request)" \
		test "${FIRST%% *}" != "$HASHED" -a -n "$HASHED"
	got=$(hit "$other" "$src" -)
	t_is "${got%% *}" "$HASHED" "without the cookie, lb-$other sends that client address to $HASHED"
	t_is "$(alternate 20 "$src" "$jar" "$other" "$name")" "${FIRST%% *} - x20" \
		"20 requests alternating lb-$other, lb-$name with lb-$name's cookie: all to ${FIRST%% *}, no new cookie"
}

# ---------------------------------------------------------------- setup
for n in "${NODES[@]}"; do
	sim_start "$n" running || t_bail "sim $n did not start"
done
appliance a cookie "$T/key1"
appliance b cookie "$T/key1"
t_wait 10 "lb-a: the three nodes are active (active_nodes = 0)" active_is a "n1 n2 n3"
t_wait 10 "lb-b: the three nodes are active" active_is b "n1 n2 n3"

# ---------------------------------------------------------------- A's cookie on B
S1=127.0.0.11
sticky_client a b "$S1" "$T/jar1"
X1=${FIRST%% *}
K1=$(field "$FIRST" 2)
H1=$HASHED

# ---------------------------------------------------------------- B's cookie on A
sticky_client b a 127.0.0.12 "$T/jar2"
t_is "$(hit a 127.0.0.12 "$(field "$FIRST" 2)" | awk '{print $2}')" - \
	"lb-b's cookie, sent as it is, is honoured by lb-a (no Set-Cookie)"

# The cookie is the node's name and a MAC over cluster and node: A and B
# set the very same value for a node.
ka=$(hit a 127.0.0.13 - | awk '{print $2}')
kb=$(hit b 127.0.0.13 - | awk '{print $2}')
t_is "$kb" "$ka" "lb-a and lb-b set the same cookie for the same node"

# ---------------------------------------------------------------- many clients
declare -A CNODE=()
stable=0 nclients=8
for k in $(seq 1 $nclients); do
	src=127.0.0.$((20 + k))
	if ((k % 2)); then first=a second=b; else first=b second=a; fi
	f=$(hit "$first" "$src" "$T/jar-c$k")
	CNODE[$k]=${f%% *}
	got=$(alternate 6 "$src" "$T/jar-c$k" "$second" "$first")
	if [ "$(field "$f" 2)" != - ] && [ "$got" = "${CNODE[$k]} - x6" ]; then
		stable=$((stable + 1))
	else
		t_diag "client $k from $src: first $f at lb-$first, then $got"
	fi
done
spread=$(printf '%s\n' "${CNODE[@]}" | sort -u | wc -l)
t_diag "$nclients clients' nodes: $(printf '%s\n' "${CNODE[@]}" | sort | uniq -c | tr '\n' ' ')"
t_ok "$nclients clients from distinct addresses spread over more than one node ($spread)" test "$spread" -gt 1
t_is "$stable" "$nclients" "each client stays on its node through 6 more requests alternating between the appliances"

# ---------------------------------------------------------------- another key
appliance c cookie "$T/key2"
t_wait 10 "lb-c (another secret_file): the three nodes are active" active_is c "n1 n2 n3"
got=$(hit c "$S1" "$K1")
t_is "${got%% *}" "$H1" "lb-c does not honour lb-a's cookie for $X1: it routes the client anew, to $H1"
t_ok "and sets a cookie of its own (${got#* })" test "$(field "$got" 2)" != - -a "$(field "$got" 2)" != "$K1"
KC=$(field "$got" 2)
t_is "$(hit c "$S1" "$K1" | awk '{print $2}')" "$KC" "lb-c sets that cookie again while the client keeps the old one"
t_is "$(hit c "$S1" "$KC")" "$H1 -" "lb-c honours its own cookie"
got=$(hit a "$S1" "$KC")
ka=$(hit a "$S1" - | awk '{print $2}')
t_is "$got" "$H1 $ka" "lb-a does not honour lb-c's cookie: it sets its own ($ka)"
t_ok "the two keys make different cookies for the same node" test "$ka" != "$KC"
appliance_stop c

# ---------------------------------------------------------------- source mode
appliance d source
appliance e source
t_wait 10 "lb-d (source mode): the three nodes are active" active_is d "n1 n2 n3"
t_wait 10 "lb-e (source mode): the three nodes are active" active_is e "n1 n2 n3"
same=0 cookies=0
declare -A SNODE=()
for k in $(seq 1 12); do
	src=127.0.0.$((40 + k))
	d=$(hit d "$src" -)
	e=$(hit e "$src" -)
	SNODE[$k]=${d%% *}
	[ "$d" = "$e" ] && [ "${d%% *}" != none ] && same=$((same + 1))
	[ "$(field "$d" 2)$(field "$e" 2)" = -- ] || cookies=$((cookies + 1))
	[ "$d" = "$e" ] || t_diag "source mode, client $src: lb-d $d, lb-e $e"
done
t_is "$same" 12 "source mode: lb-d and lb-e pick the same node for each of 12 client addresses"
t_is "$cookies" 0 "and set no cookie"
t_ok "those addresses spread over more than one node" \
	test "$(printf '%s\n' "${SNODE[@]}" | sort -u | wc -l)" -gt 1
# Unlike the cookie mode's pick, the source mode's ignores connections:
# a client's slow request in flight on lb-d does not move its next one.
src=127.0.0.41
bg slow-d curl -s --max-time 20 --interface "$src" "http://127.0.0.1:${VIP[d]}/slow?ms=8000"
slow=$BG_PID
t_wait 10 "a slow request from $src holds ${SNODE[1]} on lb-d" busy_is d "${SNODE[1]}"
t_is "$(hit d "$src" -)" "${SNODE[1]} -" "source mode: with ${SNODE[1]} busy on lb-d, the address still goes there"
t_is "$(hit e "$src" -)" "${SNODE[1]} -" "as on the idle lb-e"
_t_stop_pid "$slow" TERM 5 1
appliance_stop d
appliance_stop e

# ---------------------------------------------------------------- a node stops
# The first client (cookie for X1 from lb-a) loses its node; a copy of its
# jar goes to lb-b, so that each appliance sees the old cookie first.
cp "$T/jar1" "$T/jar1b"
sim_stop "$X1"
t_wait 10 "lb-a: $X1 leaves the active set" active_is a "$(printf '%s\n' "${NODES[@]}" | grep -vx "$X1" | tr '\n' ' ' | sed 's/ $//')"
t_wait 10 "lb-b: $X1 leaves the active set" active_is b "$(printf '%s\n' "${NODES[@]}" | grep -vx "$X1" | tr '\n' ' ' | sed 's/ $//')"
wait_for 10 idle a || t_diag "lb-a is not idle"
wait_for 10 idle b || t_diag "lb-b is not idle"
ra=$(hit a "$S1" "$T/jar1")
rb=$(hit b "$S1" "$T/jar1b")
t_diag "old cookie for $X1: lb-a says '$ra', lb-b says '$rb'"
t_ok "lb-a sends the client of $X1 to another node with a new cookie ($ra)" \
	test "${ra%% *}" != "$X1" -a "${ra%% *}" != none -a "$(field "$ra" 2)" != -
t_is "$rb" "$ra" "lb-b sends it to the same node with the same new cookie"
t_is "$(alternate 10 "$S1" "$T/jar1" b a)" "${ra%% *} - x10" \
	"lb-a's new cookie holds on lb-b and lb-a: 10 alternating requests to ${ra%% *}, no new cookie"

appliance_stop a
appliance_stop b
t_done
