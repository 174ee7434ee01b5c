#!/usr/bin/env bash
# proxy-bench.sh: vigil's reverse proxy side by side with HAProxy and nginx
# in front of the same nginx backend (a 100-byte body, keep-alive), and the
# backend directly, all on 127.0.0.1. For N = 1 then 2 workers/threads:
#   - wrk -t2 -c64 -d10s --latency against each, interleaved (vigil, haproxy,
#     nginx, direct) and repeated; the median of the rounds is reported;
#   - the peak RSS of each proxy (summed over its processes) during its runs;
#   - on freshly started proxies, the RSS added by 2,000 idle keep-alive
#     client connections (each has had one request answered);
#   - the new TCP connections per proxied request (from /proc/net/snmp
#     ActiveOpens), which shows whether the proxy keeps its upstream
#     connections alive, and the kernel's retransmission counters per run.
# Usage: tests/bench/proxy-bench.sh        (prints a Markdown table; about
#   4.5 minutes with the defaults)
# Environment: ROUNDS=3 DURATION=10s CONNS=64 IDLE=2000 WORKERS="1 2"
#   BACKEND_WORKERS=1 VIGIL=./vigil (the binary is copied first, so a rebuild
#   during the run does not change what is measured), BENCH_KEEP=DIR (copy
#   the raw wrk outputs, the halfway `ss` snapshots and vigil's log there).
#   Installs haproxy, nginx, wrk and curl with apt-get when missing (as
#   root), without starting their services. Other load on the machine moves
#   the numbers: run it on an idle machine. Not a test: numbers go to
#   docs/BENCHMARKS.md.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/integration/lib.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
IDLE=${IDLE:-2000}
WORKERS=${WORKERS:-1 2}
BACKEND_WORKERS=${BACKEND_WORKERS:-1}
PY=/usr/bin/python3
DUR_S=${DURATION%s}
[[ $DUR_S =~ ^[0-9]+$ ]] || { echo "DURATION is a number of seconds, like 10s" >&2; exit 1; }
log() { echo "proxy-bench: $*" >&2; }
die() { log "$*"; exit 1; }

# ---------------------------------------------------------------- install
# The packaged daemons must never run: install behind a policy-rc.d that
# denies every start, then make sure none was left running anyway.
install_missing() {
	local need=() p added=0
	command -v haproxy >/dev/null || need+=(haproxy)
	[ -x /usr/sbin/nginx ] || need+=(nginx)
	command -v wrk >/dev/null || need+=(wrk)
	command -v curl >/dev/null || need+=(curl)
	[ ${#need[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "missing ${need[*]}; run as root or install them"
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		added=1
	fi
	log "installing ${need[*]}"
	apt-get update -qq >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
	p=$?
	[ "$added" = 1 ] && rm -f /usr/sbin/policy-rc.d
	[ "$p" = 0 ] || die "apt-get install ${need[*]} failed"
	# should a service have started anyway: stop only the packaged daemons,
	# found by their own pid files
	for p in /run/haproxy.pid /run/nginx.pid; do
		[ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null && log "stopped the daemon of $p"
	done
	return 0
}
install_missing
NGINX=/usr/sbin/nginx
if ! command -v haproxy >/dev/null || [ ! -x "$NGINX" ] || ! command -v wrk >/dev/null ||
	! command -v curl >/dev/null; then
	die "haproxy, nginx, wrk and curl are needed"
fi
[ -x "$PY" ] || die "$PY is needed"

VIGIL=${VIGIL:-$top_builddir/vigil}
[ -x "$VIGIL" ] || die "no vigil binary at $VIGIL (make first)"
cp "$VIGIL" "$T/vigil.bin" || die "cannot copy $VIGIL"

# 2,000 idle connections plus their upstream side need file descriptors
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 8192 ]; then
	ulimit -n 8192 || die "cannot raise ulimit -n to 8192"
fi
NOFILE=$(ulimit -n)
[ "$NOFILE" = unlimited ] && NOFILE=65536

# ---------------------------------------------------------------- helpers
BODY="vigil proxy bench: a small static body served by nginx with return 200 "
while [ ${#BODY} -lt 100 ]; do BODY+=.; done
[ ${#BODY} = 100 ] || die "body is ${#BODY} bytes"

pgroup_pids() { pgrep -g "$1" 2>/dev/null; }
rss_kib() { # PGID -> summed VmRSS (KiB) of the process group
	local pid sum=0 v
	for pid in $(pgroup_pids "$1"); do
		v=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}
# counters PREFIX:NAME...: the kernel's TCP counters (/proc/net/snmp, netstat)
counters() {
	awk -v want="$*" 'BEGIN { n = split(want, w, " ") }
		{ p = $1; if (hdr[p] == "") { hdr[p] = $0; next }
		  split(hdr[p], h, " "); for (i = 2; i <= NF; i++) v[p h[i]] = $i; hdr[p] = "" }
		END { for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? " " : ""), v[w[i]] + 0; print "" }' \
		/proc/net/snmp /proc/net/netstat
}
COUNTERS=(Tcp:ActiveOpens Tcp:RetransSegs TcpExt:ListenOverflows TcpExt:TCPTimeWaitOverflow TcpExt:TCPLossProbes TcpExt:TCPTimeouts)

reaped() { # PID: wait for an exited background job and forget it
	_t_stop_pid "$1" TERM 5
}

# ---------------------------------------------------------------- backend
BP=$(free_port)
mkdir -p "$T/backend"
cat >"$T/backend/nginx.conf" <<CONF
worker_processes $BACKEND_WORKERS;
daemon off;
pid $T/backend/nginx.pid;
error_log $T/backend/error.log warn;
worker_rlimit_nofile $NOFILE;
events { worker_connections 10000; }
http {
  access_log off;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$BP backlog=4096;
    location / { default_type text/plain; return 200 "$BODY"; }
  }
}
CONF
bg backend "$NGINX" -p "$T/backend/" -e "$T/backend/error.log" -c "$T/backend/nginx.conf"
wait_for 10 port_open "$BP" || die "the backend nginx did not start: $(cat "$T/backend.log" "$T/backend/error.log")"
[ "$(curl -s "http://127.0.0.1:$BP/")" = "$BODY" ] || die "the backend does not answer the body"

# ---------------------------------------------------------------- proxies
declare -A PORT=() PID=()
VIGIL_ADMIN=

start_haproxy() { # N
	local p
	p=$(free_port)
	cat >"$T/haproxy.cfg" <<CONF
global
  nbthread $1
defaults
  mode http
  option http-keep-alive
  http-reuse safe
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
frontend fe
  bind 127.0.0.1:$p
  default_backend be
backend be
  server backend 127.0.0.1:$BP
CONF
	bg haproxy haproxy -db -f "$T/haproxy.cfg"
	PID[haproxy]=$BG_PID PORT[haproxy]=$p
	wait_for 10 port_open "$p" || die "haproxy did not start: $(cat "$T/haproxy.log")"
}

start_nginx() { # N
	local p d=$T/nginx-proxy
	p=$(free_port)
	mkdir -p "$d"
	cat >"$d/nginx.conf" <<CONF
worker_processes $1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
worker_rlimit_nofile $NOFILE;
events { worker_connections 10000; }
http {
  access_log off;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  upstream be {
    server 127.0.0.1:$BP;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$p backlog=4096;
    location / {
      proxy_pass http://be;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
	bg nginx "$NGINX" -p "$d/" -e "$d/error.log" -c "$d/nginx.conf"
	PID[nginx]=$BG_PID PORT[nginx]=$p
	wait_for 10 port_open "$p" || die "nginx did not start: $(cat "$T/nginx.log" "$d/error.log")"
}

# shellcheck disable=SC2317 # run through wait_for
vigil_active() { curl -s -m 2 "http://127.0.0.1:$VIGIL_ADMIN/api/status" | grep -q '"active":\["backend"\]'; }
start_vigil() { # N
	local p
	p=$(free_port)
	VIGIL_ADMIN=$(free_port)
	cat >"$T/vigil.conf" <<CONF
vigil = { name = "bench"; workers = $1; spool_dir = "$T/spool"; log = { level = "info"; }; };
listen = ( { address = "127.0.0.1:$p"; } );
cluster = {
  name = "bench"; active_nodes = 1;
  stickiness = { mode = "none"; };
  nodes = ( { name = "backend"; address = "127.0.0.1:$BP"; } );
};
health = { probe = { path = "/"; interval_ms = 1000; timeout_ms = 500; rise = 1; fall = 3;
                     running = "."; }; };
admin = { address = "127.0.0.1:$VIGIL_ADMIN"; };
CONF
	echo "--- vigil workers=$1" >>"$T/vigil-all.log"
	bg vigil "$T/vigil.bin" -c "$T/vigil.conf"
	PID[vigil]=$BG_PID PORT[vigil]=$p
	wait_for 15 vigil_active || die "vigil's node did not become active: $(tail -20 "$T/vigil.log")"
	wait_for 5 port_open "$p" || die "vigil does not listen on $p"
}

stop_proxy() { # NAME
	local name=$1 pid=${PID[$1]:-}
	[ -n "$pid" ] || return 0
	_t_stop_pid "$pid" TERM 10 1
	if [ "$name" = vigil ]; then
		cat "$T/vigil.log" >>"$T/vigil-all.log"
		echo "--- exit status $_T_STATUS (killed=$_T_KILLED)" >>"$T/vigil-all.log"
		[ "$_T_STATUS" = 0 ] || NOTES+=("vigil exited with status $_T_STATUS (killed=$_T_KILLED)")
	fi
	unset "PID[$name]"
}
start_all() { start_vigil "$1"; start_haproxy "$1"; start_nginx "$1"; }
stop_all() { stop_proxy vigil; stop_proxy haproxy; stop_proxy nginx; }

# ---------------------------------------------------------------- wrk
NOTES=()
wrk_ms() { # "1.23ms" -> 1.23
	awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
		printf "%.3f", n }'
}

# run_wrk TARGET N ROUND: one wrk run, RSS sampled every 0.2 s; appends
# "target n round rps p50 p99 peak_kib requests opens errors cmd" to $T/runs
run_wrk() {
	local target=$1 n=$2 r=$3 port pid wpid peak=0 v o0 o1 out rps p50 p99 reqs errs cmd url
	if [ "$target" = direct ]; then port=$BP pid=; else port=${PORT[$target]} pid=${PID[$target]}; fi
	url="http://127.0.0.1:$port/"
	cmd="wrk -t2 -c$CONNS -d$DURATION --latency $url"
	local c0 c1 t0=$SECONDS snap=0
	read -ra c0 <<<"$(counters "${COUNTERS[@]}")"
	bg "wrk-$target-$n-$r" timeout 60 wrk -t2 "-c$CONNS" "-d$DURATION" --latency "$url"
	wpid=$BG_PID
	while kill -0 "$wpid" 2>/dev/null; do
		if [ -n "$pid" ]; then
			v=$(rss_kib "$pid")
			[ "$v" -gt "$peak" ] && peak=$v
		fi
		# halfway: what the connections to the backend look like
		if [ "$snap" = 0 ] && [ $((SECONDS - t0)) -ge $((DUR_S / 2)) ]; then
			snap=1
			{
				echo "=== $target n=$n round=$r, halfway: the backend's TCP sockets by state"
				echo "connecting side (the proxies' and wrk's, to port $BP):"
				ss -Htan "( dport = :$BP )" | awk '{print $1}' | sort | uniq -c
				echo "backend side (port $BP):"
				ss -Htan "( sport = :$BP )" | awk '{print $1}' | sort | uniq -c
				echo "sockets that retransmitted (sender local address -> peer, total retransmits):"
				ss -Htin "( sport = :$BP or dport = :$BP or sport = :$port or dport = :$port )" |
					awk '/^[A-Z]/ { s = $4 " -> " $5; next } match($0, /retrans:[0-9]+\/[0-9]+/) {
						split(substr($0, RSTART + 8, RLENGTH - 8), r, "/"); if (r[2] > 0) print "  " s, r[2] }' | head -20
			} >>"$T/ss.log"
		fi
		sleep 0.2
	done
	reaped "$wpid"
	read -ra c1 <<<"$(counters "${COUNTERS[@]}")"
	o0=${c0[0]} o1=${c1[0]}
	echo "$target n=$n round=$r: connects $((c1[0] - c0[0])) retransmitted segments $((c1[1] - c0[1]))" \
		"listen overflows $((c1[2] - c0[2])) time-wait overflows $((c1[3] - c0[3]))" \
		"tail loss probes $((c1[4] - c0[4])) retransmission timeouts $((c1[5] - c0[5]))" >>"$T/tcp.log"
	out=$T/wrk-$target-$n-$r.log
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
	p50=$(awk '$1 == "50%" {print $2}' "$out")
	p99=$(awk '$1 == "99%" {print $2}' "$out")
	reqs=$(awk '/requests in/ {print $1}' "$out")
	errs=$(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ' | tr '\n' ';' | sed 's/;$//')
	if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
		errs="${errs:+$errs; }$target died during the run"
		NOTES+=("$target (N=$n) died during round $r; see its log")
	fi
	if [ -z "$rps" ]; then
		NOTES+=("wrk against $target (N=$n, round $r) printed no result: $(tr '\n' ' ' <"$out")")
		rps=0 p50=0ms p99=0ms reqs=0
	fi
	[ -n "$errs" ] && NOTES+=("$target N=$n round $r: $errs")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$n" "$r" "$rps" \
		"$(wrk_ms "$p50")" "$(wrk_ms "$p99")" "$peak" "$reqs" $((o1 - o0)) "${errs:--}" "$cmd" >>"$T/runs"
	log "$target N=$n round $r: $rps req/s, p50 $p50, p99 $p99, peak RSS $peak KiB, $((o1 - o0)) connects${errs:+, $errs}"
}

# ---------------------------------------------------------------- idle
cat >"$T/idle.py" <<'PY'
# idle.py PORT COUNT READYFILE: COUNT keep-alive connections, each with one
# request answered, then held open (for at most 120 s).
import socket, sys, time
port, count, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
REQ = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: idle.py\r\n\r\n"

def answer(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise OSError("closed before the head")
        buf += d
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    if b" 200 " not in lines[0] + b" ":
        raise OSError("status line %r" % lines[0])
    n = None
    for l in lines[1:]:
        k, _, v = l.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
        if k.strip().lower() == b"connection" and b"close" in v.lower():
            raise OSError("the proxy closes the connection")
    if n is None:
        raise OSError("no Content-Length")
    while len(body) < n:
        d = s.recv(4096)
        if not d:
            raise OSError("closed in the body")
        body += d

socks = []
for i in range(count):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(REQ)
    answer(s)
    socks.append(s)
with open(ready, "w") as f:
    f.write("%d\n" % len(socks))
time.sleep(120)
PY

# idle_test TARGET N: appends "target n base_kib idle_kib per_conn_kib open" to $T/idle
idle_test() {
	local target=$1 n=$2 port=${PORT[$1]} pid=${PID[$1]} base full est ipid
	# warm up with one connection, so lazy initialisation is not counted
	timeout 30 wrk -t1 -c1 -d1s "http://127.0.0.1:$port/" >"$T/warm-$target-$n.log" 2>&1
	sleep 0.5
	base=$(rss_kib "$pid")
	rm -f "$T/idle.ready"
	bg "idle-$target-$n" "$PY" "$T/idle.py" "$port" "$IDLE" "$T/idle.ready"
	ipid=$BG_PID
	if ! wait_for 60 test -s "$T/idle.ready"; then
		NOTES+=("$IDLE idle connections to $target (N=$n) failed: $(tail -3 "$T/idle-$target-$n.log" | tr '\n' ' ')")
		_t_stop_pid "$ipid" TERM 5 1
		printf '%s\t%s\t%s\t-\t-\t-\n' "$target" "$n" "$base" >>"$T/idle"
		return
	fi
	sleep 1
	full=$(rss_kib "$pid")
	est=$(ss -Htn state established "( dport = :$port )" | wc -l)
	_t_stop_pid "$ipid" TERM 5 1
	[ "$est" = "$IDLE" ] || NOTES+=("$target N=$n: $est of $IDLE idle connections still open when measured")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$n" "$base" "$full" \
		"$(awk -v a="$base" -v b="$full" -v c="$IDLE" 'BEGIN {printf "%.1f", (b - a) / c}')" "$est" >>"$T/idle"
	log "$target N=$n: RSS $base KiB -> $full KiB with $est idle connections"
}

# ---------------------------------------------------------------- the runs
: >"$T/runs"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$T/idle"
t_start=$SECONDS
for n in $WORKERS; do
	start_all "$n"
	for r in $(seq 1 "$ROUNDS"); do
		for target in vigil haproxy nginx direct; do
			run_wrk "$target" "$n" "$r"
		done
	done
	stop_all
	# fresh processes for the idle connections, so the load's heap is not counted
	start_all "$n"
	for target in vigil haproxy nginx; do
		idle_test "$target" "$n"
	done
	stop_all
done
log "done in $((SECONDS - t_start)) s"

# ---------------------------------------------------------------- the table
med() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
col() { awk -F'\t' -v t="$1" -v n="$2" -v c="$3" '$1 == t && $2 == n {print $c}' "$T/runs"; }

echo "| proxy | workers | req/s (median of $ROUNDS) | vs direct | p50 ms | p99 ms | peak RSS @$CONNS conns | RSS per idle conn @$IDLE | new TCP conns per request | errors | command |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for n in $WORKERS; do
	direct=$(col direct "$n" 4 | med)
	for target in vigil haproxy nginx direct; do
		rps=$(col "$target" "$n" 4 | med)
		p50=$(col "$target" "$n" 5 | med)
		p99=$(col "$target" "$n" 6 | med)
		peak=$(col "$target" "$n" 7 | sort -g | tail -1)
		reqs=$(col "$target" "$n" 8 | awk '{s += $1} END {print s + 0}')
		opens=$(col "$target" "$n" 9 | awk '{s += $1} END {print s + 0}')
		errs=$(col "$target" "$n" 10 | grep -vx -- - | sort -u | tr '\n' ' ')
		cmd=$(col "$target" "$n" 11 | tail -1)
		if [ "$target" = direct ]; then
			rssc="— (backend)" idlec="—" w="—"
		else
			rssc=$(awk -v k="$peak" 'BEGIN {printf "%.1f MiB", k / 1024}')
			idlec=$(awk -F'\t' -v t="$target" -v n="$n" '$1 == t && $2 == n {print ($5 == "-" ? "failed" : $5 " KiB (" $3 " → " $4 " KiB)")}' "$T/idle")
			w=$n
		fi
		# connects the wrk clients made themselves ($CONNS a run) are not the proxy's
		awk -v t="$target" -v w="$w" -v rps="$rps" -v d="$direct" -v p50="$p50" -v p99="$p99" \
			-v rss="$rssc" -v idle="$idlec" -v reqs="$reqs" -v opens="$opens" -v runs="$ROUNDS" \
			-v c="$CONNS" -v errs="${errs:-none}" -v cmd="$cmd" 'BEGIN {
			up = reqs > 0 ? (opens - runs * c) / reqs : 0; if (up < 0) up = 0
			printf "| %s | %s | %.0f | %.2f | %.2f | %.2f | %s | %s | %.3f | %s | `%s` |\n",
				t, w, rps, (d > 0 ? rps / d : 0), p50, p99, rss, idle, up, errs, cmd }'
	done
done
echo
echo "Backend: nginx, worker_processes $BACKEND_WORKERS, a ${#BODY}-byte body (return 200); machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)."
echo "Load average before the run: $LOAD0 (other work on the machine moves these numbers)."
echo "Versions: $(haproxy -v | head -1); $("$NGINX" -v 2>&1); $("$T/vigil.bin" -V | head -1)."
echo
echo "Kernel TCP counters over all rounds (system-wide, so the wrk clients' own connects are included):"
awk '{ k = $1 " " $2; c[k] += $5; r[k] += $8; l[k] += $11; tw[k] += $14; tlp[k] += $18; rto[k] += $21
	if (!(k in seen)) { seen[k] = 1; o[++n] = k } }
	END { for (i = 1; i <= n; i++) { k = o[i]
		printf "- %s: %d connects, %d retransmitted segments (%d tail loss probes, %d timeouts), %d listen overflows, %d time-wait overflows\n",
			k, c[k], r[k], tlp[k], rto[k], l[k], tw[k] } }' "$T/tcp.log"
for note in "${NOTES[@]}"; do echo "- note: $note"; done
if [ -n "${BENCH_KEEP:-}" ]; then
	mkdir -p "$BENCH_KEEP" && cp "$T"/runs "$T"/idle "$T"/ss.log "$T"/tcp.log "$T"/vigil-all.log "$T"/wrk-*.log "$BENCH_KEEP"/ 2>/dev/null
	log "raw results copied to $BENCH_KEEP"
fi
t_done >/dev/null
