#!/usr/bin/env bash
# smuggle.sh: the "wire" cases of the request smuggling corpus
# (tests/unit/smuggle/requests.txt) sent over a socket to a real vigil in
# front of a simulated node. Each must get its status line, then the end
# of the connection, and none of its octets may reach the node: a relay
# between vigil and the node records everything vigil sends it, and every
# wire case carries the word "smuggle", which must never be in it. A valid
# request sent the same way at the end shows that the relay would have
# seen one. No database: the node is judged on its probes alone.
. "$top_srcdir/tests/integration/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || t_skip_all "python3 is not installed"
CORPUS=$top_srcdir/tests/unit/smuggle/requests.txt

# A TCP relay to the node that appends what vigil sends to a file.
cat >"$T/relay.py" <<'PY'
import socket, sys, threading
port, node, record = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()

def pipe(src, dst, keep):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            if keep:
                with lock, open(record, "ab") as f:
                    f.write(b)
            dst.sendall(b)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass

def serve(c):
    try:
        s = socket.create_connection(("127.0.0.1", node), timeout=5)
        s.settimeout(None)
    except OSError:
        c.close()
        return
    back = threading.Thread(target=pipe, args=(s, c, False), daemon=True)
    back.start()
    pipe(c, s, True)
    back.join()
    c.close()
    s.close()

ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(64)
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

# Sends each wire case (or the one request given as argv[4]) on its own
# connection; prints "NAME<TAB>STATUS-LINE<TAB>END<TAB>NODE" where END is
# how the connection ended after the answer (closed, reset, open) and
# NODE what of the case the node got (nothing, or the octets' count).
cat >"$T/send.py" <<'PY'
import os, re, socket, sys, time
vip, corpus, record = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def unescape(s):
    out, i = bytearray(), 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode("latin-1")
            i += 1
            continue
        e = s[i + 1]
        if e in "rnt\\":
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}[e]
            i += 2
        elif e == "x":
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        elif e == "{":
            end = s.index("}", i)
            out += out[-1:] * int(s[i + 2:end])
            i = end + 1
        else:
            raise ValueError("bad escape \\" + e)
    return bytes(out)

def size():
    try:
        return os.path.getsize(record)
    except OSError:
        return 0

def send(name, raw):
    before = size()
    s = socket.create_connection(("127.0.0.1", vip), timeout=5)
    s.sendall(raw)
    data, end = b"", "open"
    try:
        while True:
            b = s.recv(65536)
            if not b:
                end = "closed"
                break
            data += b
    except socket.timeout:
        end = "open"
    except ConnectionResetError:
        end = "reset"
    s.close()
    time.sleep(0.1)  # what vigil forwarded has reached the relay
    with open(record, "rb") as f:
        f.seek(before)
        got = f.read()
    node = "nothing" if b"smuggle" not in got else "%d octets" % len(got)
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    print("%s\t%s\t%s\t%s" % (name, line, end, node), flush=True)

if len(sys.argv) > 4:
    send("control", unescape(sys.argv[4]))
    sys.exit(0)
for line in open(corpus, encoding="latin-1"):
    m = re.match(r"(\S+) wire (\S+) (.*)$", line.rstrip("\n"))
    if m:
        send(m.group(2), unescape(m.group(3)))
PY

sim_start n1 running || t_bail "the simulated node did not start"
RELAY=$(free_port)
VIP=$(free_port)
ADMIN=$(free_port)
: >"$T/node.bytes"
bg relay "$PY" "$T/relay.py" "$RELAY" "$(sim_port n1)" "$T/node.bytes"
wait_for 10 port_open "$RELAY" || t_bail "the relay did not start"

cat >"$T/vigil.conf" <<CONF
vigil = { name = "t"; workers = 1; spool_dir = "$T/spool"; };
listen = ( { address = "127.0.0.1:$VIP"; } );
proxy = { max_header_bytes = 4096; };
cluster = { name = "c"; nodes = ( { name = "n1"; address = "127.0.0.1:$RELAY"; } ); };
health = { probe = { interval_ms = 200; timeout_ms = 200; rise = 1; fall = 1; }; };
admin = { address = "127.0.0.1:$ADMIN"; };
CONF
vigil_start "$T/vigil.conf"
active() { curl -s "http://127.0.0.1:$ADMIN/api/status" | grep -q '"active":\["n1"\]'; }
t_wait 10 "the node, probed through the relay, is active" active

reason() {
	case $1 in
	400) echo "Bad Request" ;;
	431) echo "Request Header Fields Too Large" ;;
	501) echo "Not Implemented" ;;
	505) echo "HTTP Version Not Supported" ;;
	esac
}
declare -A want=()
while read -r status where name _; do
	[ "$where" = wire ] && want[$name]=$status
done < <(grep -v '^#' "$CORPUS")

timeout 120 "$PY" "$T/send.py" "$VIP" "$CORPUS" "$T/node.bytes" >"$T/sent" 2>"$T/send.err"
t_is "$?" 0 "every wire case was sent"
[ -s "$T/send.err" ] && t_diag "$(cat "$T/send.err")"
n=0
while IFS=$'\t' read -r name line end node; do
	n=$((n + 1))
	status=${want[$name]:-?}
	t_is "$line" "HTTP/1.1 $status $(reason "$status")" "$name: $status"
	t_is "$end" closed "$name: then the connection is closed"
	t_is "$node" nothing "$name: nothing of it reached the node"
done <"$T/sent"
t_ok "all ${#want[@]} wire cases answered (got $n)" test "$n" = "${#want[@]}"
t_ok "none of them ever reached the node" ! grep -q smuggle "$T/node.bytes"

# The control: a valid request, sent the same way, does reach the node.
"$PY" "$T/send.py" "$VIP" "$CORPUS" "$T/node.bytes" \
	'GET /smuggle-control HTTP/1.1\r\nHost: vip\r\nConnection: close\r\n\r\n' >"$T/control"
IFS=$'\t' read -r _ line end node <"$T/control"
t_like "$line" "^HTTP/1.1 200 " "control: a valid request is answered by the node"
t_is "$end" closed "control: Connection: close is honoured"
t_like "$node" "octets$" "control: the relay saw it, so it would have seen the others"
t_ok "control: and vigil logged no error" ! grep -qi "error" "$T/vigil.log"
t_done
