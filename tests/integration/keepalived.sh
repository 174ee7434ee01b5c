#!/usr/bin/env bash
# keepalived.sh: SPEC.md "Several appliances": two vigil appliances behind a
# VIP that keepalived's VRRP moves, with etc/keepalived/ as shipped (the
# keepalived.conf example templated with the test's addresses, its
# vigil-check and vigil-notify scripts). Network namespaces of the test's
# own: a switch (a bridge), lb1 and lb2 (vigil and keepalived each), the
# simulated nodes and a client, on 10.213.0.0/24, which exists only inside
# them. Checks: lb1 takes the VIP and the client is answered through it;
# vigil-notify told lb1's vigil (vip_changed master) and lb2's (backup);
# once lb1's vigil is SIGKILLed, vigil-check fails, the VIP moves to lb2
# within a bounded time, the client is answered again, and lb2's vigil
# raised vip_changed master. Needs root, `ip netns` and keepalived.
# shellcheck disable=SC2317 # the helpers run through t_ok and t_wait
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/integration/lib.sh"

[ "$(id -u)" = 0 ] || t_skip_all "not root: network namespaces need root"
KEEPALIVED=$(command -v keepalived || ls /usr/sbin/keepalived 2>/dev/null) ||
	t_skip_all "keepalived is not installed (Debian package keepalived)"
command -v ip >/dev/null || t_skip_all "ip is not installed (Debian package iproute2)"
command -v curl >/dev/null || t_skip_all "curl is not installed"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || t_skip_all "python3 is not installed"

# keepalived refuses (with enable_script_security) to run scripts that a
# user other than root could change, or in a folder one could: the scripts
# as shipped, copied into the test's own folder, since the source tree
# may belong to anyone.
KDIR=$T/keepalived
if ! { mkdir "$KDIR" && chmod 755 "$KDIR" &&
	install -m 755 "$top_srcdir/etc/keepalived/vigil-check" \
		"$top_srcdir/etc/keepalived/vigil-notify" "$KDIR/"; }; then
	t_bail "cannot copy etc/keepalived's scripts"
fi
CTL=$top_builddir/vigilctl
NET=10.213.0
VIP=$NET.10
# Namespace names: this test's own, unique per run.
P=vk$$
SW=${P}sw L1=${P}l1 L2=${P}l2 NODES=${P}nd CLIENT=${P}cl
NSES=()
NS_PIDS=() # what runs inside the namespaces, stopped before they go

# Stops what runs in the namespaces, then deletes them: every process left
# in one (a script keepalived started) is killed by its id first, so that
# nothing keeps a namespace alive.
net_down() {
	local i ns pid
	for ((i = ${#NS_PIDS[@]} - 1; i >= 0; i--)); do
		_t_stop_pid "${NS_PIDS[i]}" TERM 5 1
	done
	for ns in "${NSES[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}
on_exit net_down

ip netns add "$SW" 2>"$T/netns.err" || t_skip_all "ip netns is not usable: $(head -n 1 "$T/netns.err")"
NSES+=("$SW")
# net_up NS PORT ADDRESS: NS joins the switch's bridge through a veth
# pair (eth0 inside NS, PORT on the bridge) with ADDRESS/24.
net_up() {
	ip netns add "$1" && NSES+=("$1") &&
		ip -n "$SW" link add "$2" type veth peer name eth0 netns "$1" &&
		ip -n "$SW" link set "$2" master br0 up &&
		ip -n "$1" link set lo up &&
		ip -n "$1" addr add "$3/24" dev eth0 &&
		ip -n "$1" link set eth0 up
}
{
	ip -n "$SW" link add br0 type bridge &&
		ip -n "$SW" link set br0 up &&
		net_up "$L1" l1 "$NET.11" && net_up "$L2" l2 "$NET.12" &&
		net_up "$NODES" nd "$NET.21" && net_up "$CLIENT" cl "$NET.31"
} 2>"$T/netns.err" || t_skip_all "cannot build the test's network: $(head -n 1 "$T/netns.err")"
in_ns() { ip netns exec "$@"; }

# ---------------------------------------------------------------- nodes
for n in a:8001 b:8002; do
	bg "sim-${n%:*}" ip netns exec "$NODES" "$top_builddir/tests/sim/vigil-sim" \
		--name "${n%:*}" --listen "$NET.21:${n#*:}" \
		--control "$T/sim-${n%:*}.sock" --state running --startup-ms 0
	NS_PIDS+=("$BG_PID")
done
t_wait 10 "the client reaches the simulated nodes on $NET.0/24" \
	in_ns "$CLIENT" bash -c "curl -sf -m 1 http://$NET.21:8001/ && curl -sf -m 1 http://$NET.21:8002/"

# ---------------------------------------------------------------- vigil
(umask 077 && printf 'vip-t0ken\n' >"$T/token")
declare -A VIGIL
# vigil_in N: lb N's vigil, admin on its own 127.0.0.1:9090, the address
# etc/keepalived/keepalived.conf gives vigil-check.
vigil_in() {
	mkdir -p "$T/lb$1"
	cat >"$T/lb$1/vigil.conf" <<CONF
vigil = { name = "lb-$1"; spool_dir = "$T/lb$1/spool"; };
listen = ( { address = "0.0.0.0:8080"; } );
cluster = { name = "c"; active_nodes = 0; nodes = (
  { name = "a"; address = "$NET.21:8001"; },
  { name = "b"; address = "$NET.21:8002"; } ); };
health = { probe = { interval_ms = 200; timeout_ms = 200; rise = 1; fall = 2; }; };
admin = { address = "127.0.0.1:9090"; token_file = "$T/token"; };
CONF
	bg "vigil-lb$1" ip netns exec "${!2}" "${VIGIL_CMD[@]}" -c "$T/lb$1/vigil.conf"
	VIGIL[$1]=$BG_PID
	NS_PIDS+=("$BG_PID")
}
vigil_in 1 L1
vigil_in 2 L2
# api N PATH: GET PATH of lb N's vigil
api() {
	local ns=$L1
	[ "$1" = 2 ] && ns=$L2
	in_ns "$ns" curl -sf -m 2 "http://127.0.0.1:9090$2"
}
routes() { api "$1" /api/status | "$PY" -c 'import json,sys; assert len(json.load(sys.stdin)["active"]) == 2'; }
t_wait 10 "lb1's vigil routes to both nodes" routes 1
t_wait 10 "lb2's vigil routes to both nodes" routes 2
t_ok "the client reaches both vigils on their own addresses" \
	in_ns "$CLIENT" bash -c "curl -sf -m 2 http://$NET.11:8080/ && curl -sf -m 2 http://$NET.12:8080/"

# vip_event N STATE: lb N's vigil has a vip_changed STATE event, and no
# node in it (prints the reason of the last one)
vip_event() {
	api "$1" /api/events | "$PY" -c '
import json, sys
evs = [e for e in json.load(sys.stdin)["events"]
       if e["event"] == "vip_changed" and e.get("state") == sys.argv[1]]
assert evs, "no vip_changed " + sys.argv[1]
e = evs[-1]
assert "node" not in e, e
print(e["reason"])' "$2"
}

# ---------------------------------------------------------------- keepalived
# The example as an operator adapts it: the test's addresses, lb-2's
# priority and peers, scripts from the source tree (and this build's
# vigilctl), root for the scripts (no user vigil here).
template() { # N SRC PEER PRIORITY
	sed -e "s|router_id lb-1|router_id lb-$1|" \
		-e "s|script_user vigil|script_user root|" \
		-e "s|/etc/vigil/keepalived/|$KDIR/|g" \
		-e "s|-c /etc/vigil/vigil.conf|--vigilctl $CTL -c $T/lb$1/vigil.conf|" \
		-e "s|priority 150|priority $4|" \
		-e "s|192\.0\.2\.10/|$VIP/|" \
		-e "s|unicast_src_ip 192\.0\.2\.11|unicast_src_ip $2|" \
		-e "s|^\( *\)192\.0\.2\.12\b|\1$3|" \
		"$top_srcdir/etc/keepalived/keepalived.conf" >"$T/lb$1/keepalived.conf"
}
template 1 "$NET.11" "$NET.12" 150
template 2 "$NET.12" "$NET.11" 100
t_ok "the templated configuration names no example address nor path" \
	bash -c "! sed 's/#.*//' '$T/lb1/keepalived.conf' '$T/lb2/keepalived.conf' | grep '192\.0\.2\.\|/etc/vigil'"
t_is "$(sed -n "s/#.*//; s/^ *\(unicast_src_ip \)\{0,1\}\($NET\.1[12]\) *$/\2/p" "$T/lb2/keepalived.conf" | tr '\n' ' ')" \
	"$NET.12 $NET.11 " "lb2's: its own address, and lb1's as its peer"
t_ok "keepalived -t accepts lb1's configuration" in_ns "$L1" "$KEEPALIVED" -t -f "$T/lb1/keepalived.conf"
t_ok "and lb2's" in_ns "$L2" "$KEEPALIVED" -t -f "$T/lb2/keepalived.conf"

# keepalived_in N: keepalived's VRRP alone, in the foreground, logging to
# its $T/keepalived-lbN.log, with pid files of its own.
keepalived_in() {
	local ns=$L1
	[ "$1" = 2 ] && ns=$L2
	bg "keepalived-lb$1" ip netns exec "$ns" "$KEEPALIVED" -n -l -D --vrrp \
		-f "$T/lb$1/keepalived.conf" -p "$T/lb$1/keepalived.pid" \
		-r "$T/lb$1/vrrp.pid" -c "$T/lb$1/checkers.pid"
	NS_PIDS+=("$BG_PID")
}
has_vip() { # N: lb N holds the VIP
	local ns=$L1
	[ "$1" = 2 ] && ns=$L2
	ip -n "$ns" -4 addr show dev eth0 | grep -q "inet $VIP/"
}
through_vip() { in_ns "$CLIENT" curl -sf -m 1 "http://$VIP:8080/" | grep -Eq '^(a|b) '; }

# lb1 alone first: both start as BACKUP with nopreempt, so the first one up
# takes the VIP; lb2 then finds a MASTER and stays BACKUP.
keepalived_in 1
t_wait 15 "lb1 takes the VIP (MASTER)" has_vip 1
t_wait 5 "a client is answered through the VIP" through_vip
t_wait 5 "vigil-notify told lb1's vigil: vip_changed master" vip_event 1 master
t_like "$(vip_event 1 master)" "^keepalived: VRRP instance VI_1 is now MASTER on lb-1$" "with the instance and the appliance in the reason"
keepalived_in 2
t_wait 15 "lb2 is BACKUP: its vigil has vip_changed backup" vip_event 2 backup
t_ok "lb2 does not hold the VIP" ! has_vip 2
t_ok "lb2's vigil has no vip_changed master" ! vip_event 2 master

# ---------------------------------------------------------------- failover
kill -KILL "${VIGIL[1]}"
_t_now
killed=$_T_NOW
t_wait 15 "lb1's vigil SIGKILLed: the VIP moves to lb2" has_vip 2
_t_now
t_diag "the VIP moved $(((_T_NOW - killed) / 1000)) ms after SIGKILL"
t_wait 5 "and leaves lb1" ! has_vip 1
t_wait 10 "a client is answered through the VIP again (by lb2: lb1's vigil is gone)" through_vip
t_wait 5 "lb2's vigil raised vip_changed master" vip_event 2 master
t_like "$(vip_event 2 master)" "^keepalived: VRRP instance VI_1 is now MASTER on lb-2$" "its reason names lb-2"
t_ok "keepalived on lb1: vigil-check failed, and the instance went to FAULT" \
	bash -c "grep -q 'VRRP_Script(vigil) failed' '$T/keepalived-lb1.log' && grep -q '(VI_1) Entering FAULT STATE' '$T/keepalived-lb1.log'"
_t_stop_pid "${VIGIL[2]}" TERM 10 1
t_is "$_T_STATUS" 0 "lb2's vigil stops cleanly (exit 0)"

t_done
