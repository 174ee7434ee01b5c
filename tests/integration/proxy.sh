#!/usr/bin/env bash
# proxy.sh: the VIP with real clients against simulated nodes: curl
# (keep-alive, HTTP/1.0, chunked and fixed uploads, 100-continue, HEAD),
# a WebSocket echo, active-only routing, cookie stickiness, 503 when no
# node is active, 400 and close for a smuggling attempt, a node killed
# under keep-alive load without client errors, and a slow client reading
# 50 MB while vigil's memory stays bounded.
. "$top_srcdir/tests/integration/lib.sh"

command -v curl >/dev/null || t_skip_all "curl is not installed"
pg_start || t_skip_all "no PostgreSQL server to test against"
PY=/usr/bin/python3

TIM=(--interval-ms 200 --failover-heartbeats 5 --startup-ms 300 --db-loss-standby-ms 0)
# An IPv6 listener too, where this machine has IPv6 on loopback.
HAVE_V6=
$PY -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null && HAVE_V6=1
VIP=
ADMIN=

# start_vigil ACTIVE_NODES NODE...: vigil in front of the named sims
start_vigil() {
	local active=$1 nodes="" n
	shift
	for n in "$@"; do
		nodes+="${nodes:+,}{ name = \"$n\"; address = \"127.0.0.1:$(sim_port "$n")\"; }"
	done
	VIP=$(free_port)
	VIP6=$(free_port)
	ADMIN=$(free_port)
	LISTEN6=
	[ -n "$HAVE_V6" ] && LISTEN6=", { address = \"[::1]:$VIP6\"; }"
	cat >"$T/vigil.conf" <<CONF
vigil = { name = "t"; workers = 2; spool_dir = "$T/spool"; access_log = "$T/access.log";
          log = { level = "${VIGIL_LOG_LEVEL:-info}"; }; };
listen = ( { address = "127.0.0.1:$VIP"; }$LISTEN6 );
proxy = { connect_timeout_ms = 500; server_timeout_ms = 2000; };
cluster = { name = "c"; active_nodes = $active; nodes = ( $nodes ); };
health = {
  probe = { interval_ms = 200; timeout_ms = 200; rise = 1; fall = 2;
            standby = "\"state\"\\\\s*:\\\\s*\"STANDBY\""; };
  heartbeat = { conninfo = "$PG_CONNINFO"; interval_ms = 200; failover_heartbeats = 5; };
};
admin = { address = "127.0.0.1:$ADMIN"; };
CONF
	: >"$T/vigil.log"
	vigil_start "$T/vigil.conf"
}
active_count() {
	curl -s "http://127.0.0.1:$ADMIN/api/status" |
		$PY -c 'import json,sys; print(len(json.load(sys.stdin)["active"]))'
}
active_is() { [ "$(active_count)" = "$1" ]; }
vip() { echo "http://127.0.0.1:$VIP$1"; }

# ---------------------------------------------------------------- basics
sim_start a running "${TIM[@]}" --priority 1 || t_bail "sim a"
sim_start b standby "${TIM[@]}" --priority 2 || t_bail "sim b"
start_vigil 1 a b
t_wait 10 "one node active" active_is 1

out=$(curl -s -D "$T/h" "$(vip /hello?x=1)")
t_is "$out" "a GET /hello?x=1" "GET reaches the running node"
t_like "$(cat "$T/h")" "X-Node: a" "with the node's header"
t_like "$(cat "$T/h")" "Set-Cookie: VIGILNODE=a\.[A-Za-z0-9_-]{22}; Path=/; HttpOnly" "and a signed stickiness cookie"
nodes=$(for i in $(seq 1 20); do curl -s "$(vip /)"; done | sort | uniq -c | awk '{print $2}' | tr '\n' ' ')
t_is "$nodes" "a " "20 requests: all to the active node, none to the standby"
# Those 20 requests came on 20 client connections; vigil kept its own
# connections to the node alive and reused them: at most one per worker (2)
# plus the probes' one.
conns=$(ss -Htn state established "( dport = :$(sim_port a) )" | wc -l)
t_ok "connections to the node are reused (now $conns open)" test "$conns" -ge 1 -a "$conns" -le 3

t_is "$(curl -s -w '%{num_connects}' -o /dev/null "$(vip /1)" -o /dev/null "$(vip /2)" -o /dev/null "$(vip /3)")" "100" "keep-alive: three requests, one connection"
t_is "$(curl -s -0 "$(vip /old)")" "a GET /old" "HTTP/1.0 client"
if [ -n "$HAVE_V6" ]; then
	t_is "$(curl -s -g "http://[::1]:$VIP6/v6")" "a GET /v6" "an IPv6 listener"
else
	t_skip "an IPv6 listener" "no IPv6 on loopback here"
fi
code=$(curl -s -o "$T/b504" -w '%{http_code}' "$(vip /slow?ms=4000)")
t_is "$code" 504 "a node silent past server_timeout_ms: 504"
t_like "$(cat "$T/b504")" "^504 Gateway Timeout: " "with a body that says which"
t_like "$(curl -s -0 -D - -o /dev/null "$(vip /old)")" "Connection: close" "HTTP/1.0 without keep-alive is closed"
head -c 300000 /dev/urandom >"$T/body"
t_like "$(curl -s -H 'Transfer-Encoding: chunked' --data-binary @"$T/body" "$(vip /up)")" "body-bytes=300000" "chunked upload"
t_like "$(curl -s --data-binary @"$T/body" "$(vip /up)")" "body-bytes=300000" "fixed-length upload"
t_like "$(curl -s -H 'Expect: 100-continue' --data-binary @"$T/body" "$(vip /up)")" "body-bytes=300000" "100-continue upload"
t_like "$(curl -s -I "$(vip /h)" | head -1)" "^HTTP/1.1 200" "HEAD"
t_is "$(curl -s -I "$(vip /h)" | grep -ci '^content-length')" 1 "HEAD keeps Content-Length"
t_like "$(curl -s -H 'X-Forwarded-For: 10.9.9.9' "$(vip /echo)")" "^a GET /echo" "a request with X-Forwarded-For"

# WebSocket through the VIP
cat >"$T/ws.py" <<'PY'
import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1]) as ws:
        for msg in ["hello", "x" * 70000]:
            await ws.send(msg)
            got = await asyncio.wait_for(ws.recv(), 5)
            assert got == msg, (len(got), len(msg))
    print("echo ok")
asyncio.run(main())
PY
t_is "$(timeout 20 $PY "$T/ws.py" "ws://127.0.0.1:$VIP/ws" 2>&1)" "echo ok" "WebSocket echo through the VIP"

# A node that leaves the active set takes its tunnels with it: the client
# learns at once and reconnects to the new active node.
cat >"$T/ws-held.py" <<'PY'
import asyncio, sys, time, websockets
async def main():
    async with websockets.connect(sys.argv[1]) as ws:
        await ws.send("hi")
        await ws.recv()
        print("open", flush=True)
        t0 = time.time()
        try:
            await asyncio.wait_for(ws.recv(), 15)
        except websockets.ConnectionClosed:
            print("closed after %.1f s" % (time.time() - t0))
asyncio.run(main())
PY
bg wsheld timeout 30 $PY "$T/ws-held.py" "ws://127.0.0.1:$VIP/ws"
t_wait 10 "a WebSocket tunnel to a is open" grep -q open "$T/wsheld.log"
simctl a standby >/dev/null
t_wait 10 "a leaves the active set: vigil closes its tunnel" grep -q "closed after" "$T/wsheld.log"
simctl a running >/dev/null
# b, the other standby, may have promoted itself meanwhile (vRO does)
t_wait 10 "a node is active again" active_is 1

# Malformed and smuggling-prone requests: 400, closed, nothing forwarded.
raw() { http_raw "$VIP" "$1"; } # bytes → what vigil answered before closing
t_is "$(raw 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')" "HTTP/1.1 400 Bad Request" "CL.TE: 400 and the connection closes"
t_is "$(raw 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab')" "HTTP/1.1 400 Bad Request" "two Content-Length: 400"
t_is "$(raw 'GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n')" "HTTP/1.1 400 Bad Request" "obs-fold: 400"
t_is "$(raw 'GET / HTTP/1.1\r\n\r\n')" "HTTP/1.1 400 Bad Request" "no Host: 400"
t_is "$(raw 'CONNECT 10.0.0.1:22 HTTP/1.1\r\nHost: 10.0.0.1:22\r\n\r\n')" "HTTP/1.1 405 Method Not Allowed" "CONNECT: not an open proxy"
t_like "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)" "$(vip /)")" "^431$" "a head over max_header_bytes: 431"

# The access log: one line per request, written by its own thread.
alog_has() { grep -qE -- "$1" "$T/access.log"; }
t_wait 5 "access log: a line per request" alog_has '^[0-9T:.-]+Z 127\.0\.0\.1 "GET /hello\?x=1 HTTP/1\.1" 200 a [0-9]+ [0-9.]+ms$'
t_wait 5 "access log: refused requests too" alog_has '"CONNECT 10\.0\.0\.1:22 HTTP/1\.1" 405 - '
mv "$T/access.log" "$T/access.log.1"
kill -HUP "$VIGIL_PID"
t_wait 5 "SIGHUP reopens the access log (rotation)" test -f "$T/access.log"
curl -s -o /dev/null "$(vip /after-rotation)"
t_wait 5 "and new lines go to the new file" alog_has '"GET /after-rotation HTTP/1\.1" 200 [ab] '

# ---------------------------------------------------------------- stickiness
vigil_stop
sim_start c running "${TIM[@]}" --priority 3 || t_bail "sim c"
simctl b running >/dev/null
start_vigil 0 a b c
t_wait 10 "three nodes active (active_nodes = 0)" active_is 3
# Ties between idle nodes go by a hash of the client address: clients from
# 30 loopback addresses spread over the nodes.
spread=$(for i in $(seq 1 30); do curl -s --interface "127.0.0.$((10 + i))" "$(vip /)"; done | awk '{print $1}' | sort -u | wc -l)
t_is "$spread" 3 "new clients spread over the three nodes"
curl -s -c "$T/jar" -o /dev/null "$(vip /)"
first=$(curl -s -b "$T/jar" "$(vip /)" | awk '{print $1}')
same=$(for i in $(seq 1 30); do curl -s -b "$T/jar" "$(vip /)"; done | awk '{print $1}' | sort -u)
t_is "$same" "$first" "the same cookie goes to the same node, 30 times"
forged=$(curl -s -D - -o /dev/null -H "Cookie: VIGILNODE=b.AAAAAAAAAAAAAAAAAAAAAA" "$(vip /)" | grep -c 'Set-Cookie: VIGILNODE=')
t_is "$forged" 1 "a forged cookie is replaced"

# A node that reads a request and dies before answering: an idempotent
# request is tried once more elsewhere, a POST never twice.
drops() { local n t=0; for n in a b c; do t=$((t + $(simctl "$n" status | sed 's/.*drops=//'))); done; echo "$t"; }
curl -s -o /dev/null "$(vip /warm1)" "$(vip /warm2)" # pooled connections
d0=$(drops)
t_is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$(vip /drop)")" 502 "a POST whose node died: 502"
t_is "$(($(drops) - d0))" 1 "and it reached a node once, not twice"
d0=$(drops)
t_is "$(curl -s -o /dev/null -w '%{http_code}' "$(vip /drop)")" 502 "a GET whose nodes both died: 502"
# The first try rode a pooled connection: vigil takes a node closing it for
# a stale idle connection and sends once more on a new one, then retries
# once on another node: three tries in all, never more.
t_is "$(($(drops) - d0))" 3 "after a new connection and one retry on another node"

# A node killed under keep-alive load: no client error.
cat >"$T/load.py" <<'PY'
import http.client, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
ok = err = 0
end = time.time() + seconds
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
while time.time() < end:
    try:
        conn.request("GET", "/load")
        r = conn.getresponse()
        r.read()
        if r.status == 200:
            ok += 1
        else:
            err += 1
            print("status", r.status, file=sys.stderr)
        if r.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    except Exception as e:
        err += 1
        print("error", repr(e), file=sys.stderr)
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
print(ok, err)
PY
for i in 1 2 3 4; do
	bg "load$i" $PY "$T/load.py" "$VIP" 4
done
sleep 1
kill -KILL "${SIM_PID[b]}"
sleep 4
wait_for 10 bash -c "for i in 1 2 3 4; do [ \$(wc -l < '$T/load'\$i'.log') -ge 1 ] || exit 1; done; grep -qE '^[0-9]+ [0-9]+$' '$T/load4.log'"
total_ok=0 total_err=0
for i in 1 2 3 4; do
	read -r o e < <(grep -E '^[0-9]+ [0-9]+$' "$T/load$i.log" || echo "0 1")
	total_ok=$((total_ok + o))
	total_err=$((total_err + e))
done
t_diag "keep-alive GETs while a node was killed: $total_ok ok, $total_err errors"
# What the clients saw, and what vigil said meanwhile, when it went wrong.
if [ "$total_err" != 0 ]; then
	t_diag "$(grep -h -E '^(status|error) ' "$T"/load[1-4].log | head -5)"
	t_diag "$(grep -E 'proxy:|ejected|routing table' "$T/vigil.log" | tail -15)"
fi
t_is "$total_err" 0 "a node killed with SIGKILL under load: no client error"
t_ok "and requests flowed" test "$total_ok" -gt 100
t_ok "the proxy's own errors (passive evidence) ejected b" \
	grep -q "node b: ejected from routing for 10000 ms" "$T/vigil.log"

# ---------------------------------------------------------------- no node
simctl a standby >/dev/null
simctl c standby >/dev/null
t_wait 5 "no node active" active_is 0
curl -s -D "$T/h" -o "$T/b" "$(vip /)"
t_like "$(head -1 "$T/h")" "^HTTP/1.1 503" "no active node: 503"
t_like "$(cat "$T/h")" "Retry-After:" "with Retry-After"

# ---------------------------------------------------------------- slow client
simctl a running >/dev/null
t_wait 5 "a active again" active_is 1
bg slow curl -s --limit-rate 10M -o /dev/null -w '%{size_download}' "$(vip /big?bytes=50000000)"
slow=$BG_PID
max=0
while kill -0 "$slow" 2>/dev/null; do
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$VIGIL_PID/status")
	[ "$rss" -gt "$max" ] && max=$rss
	sleep 0.2
done
t_is "$(cat "$T/slow.log")" 50000000 "a slow client gets all 50 MB"
t_diag "vigil's peak RSS during the download: $max KiB"
if ldd "$top_builddir/vigil" 2>/dev/null | grep -q libasan; then
	t_skip "vigil's memory stays bounded" "RSS means nothing under AddressSanitizer"
elif [ "${VIGIL_VALGRIND:-0}" = 1 ]; then
	# memcheck's shadow memory and translations are in vigil's RSS
	# (~150 MiB); a growing buffer would show as a leak report instead
	t_skip "vigil's memory stays bounded" "RSS means nothing under valgrind"
else
	t_ok "vigil's memory stays bounded (peak RSS < 40 MiB)" test "$max" -lt 40960
fi

vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly"
t_done
