#!/usr/bin/env bash
# tls.sh: TLS on both sides of the VIP: a TLS listener that curl verifies
# with its CA, TLS 1.2 as the floor, the server's cipher order, forward
# secrecy only, no compression, no client renegotiation, ALPN http/1.1, a broken handshake that
# leaves vigil serving, and nodes reached over TLS with their certificate
# checked (a wrong CA fails the node, not the client's request silently).
. "$top_srcdir/tests/integration/lib.sh"

command -v curl >/dev/null || t_skip_all "curl is not installed"
command -v openssl >/dev/null || t_skip_all "openssl is not installed"
PY=/usr/bin/python3

cert() { # NAME: a self-signed certificate for 127.0.0.1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/$1.key" -out "$T/$1.pem" -days 2 -subj "/CN=$1" \
		-addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
}
cert vip
cert node
cert other

sim_start n1 running --tls-cert "$T/node.pem" --tls-key "$T/node.key" || t_bail "tls sim"
VIP=$(free_port)
ADMIN=$(free_port)
write_conf() { # CA file the probes and the proxy trust for the node
	cat >"$T/vigil.conf" <<CONF
vigil = { name = "t"; workers = 2; spool_dir = "$T/spool"; };
listen = ( { address = "127.0.0.1:$VIP"; tls = { certificate = "$T/vip.pem"; key = "$T/vip.key"; }; } );
cluster = { name = "c"; nodes = ( { name = "n1"; address = "127.0.0.1:$(sim_port n1)"; tls = true; } ); };
health = { probe = { interval_ms = 200; timeout_ms = 200; rise = 1; fall = 1; ca_file = "$1"; }; };
admin = { address = "127.0.0.1:$ADMIN"; };
CONF
}
write_conf "$T/node.pem"
vigil_start "$T/vigil.conf"
active() { curl -s "http://127.0.0.1:$ADMIN/api/status" | grep -q '"active":\["n1"\]'; }
t_wait 10 "the TLS node is probed over HTTPS and active" active

out=$(curl -s --cacert "$T/vip.pem" "https://127.0.0.1:$VIP/hello")
t_is "$out" "n1 GET /hello" "curl --cacert through the TLS listener to a TLS node"
t_like "$(curl -s -o /dev/null -w '%{http_version}' --cacert "$T/vip.pem" "https://127.0.0.1:$VIP/")" "^1.1$" "ALPN: HTTP/1.1"
t_like "$(curl -s -D - -o /dev/null --cacert "$T/vip.pem" "https://127.0.0.1:$VIP/")" "Set-Cookie: VIGILNODE=[^;]+; Path=/; HttpOnly; Secure" "the cookie is Secure over TLS"
t_is "$(curl -s -w '%{num_connects}' -o /dev/null --cacert "$T/vip.pem" "https://127.0.0.1:$VIP/1" -o /dev/null "https://127.0.0.1:$VIP/2")" "10" "keep-alive over TLS"
t_ok "a client that trusts another CA is refused" ! curl -s --cacert "$T/other.pem" "https://127.0.0.1:$VIP/"
t_ok "TLS 1.1 is refused" ! curl -s -k --tls-max 1.1 "https://127.0.0.1:$VIP/"
t_ok "TLS 1.2 is accepted" curl -s -o /dev/null --cacert "$T/vip.pem" --tls-max 1.2 "https://127.0.0.1:$VIP/"
# The server's cipher order wins, whatever order the client offers.
cipher() { # OPENSSL-CIPHER-LIST: the TLS 1.2 cipher vigil picks
	openssl s_client -connect "127.0.0.1:$VIP" -tls1_2 -cipher "$1" \
		-CAfile "$T/vip.pem" </dev/null 2>/dev/null | sed -n 's/.*Cipher is \(.*\)/\1/p' | head -1
}
t_is "$(cipher ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256)" \
	ECDHE-ECDSA-AES128-GCM-SHA256 "server cipher preference: the client's first choice (CHACHA20) loses"
t_is "$(cipher ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256)" \
	ECDHE-ECDSA-AES128-GCM-SHA256 "server cipher preference: the client's first choice (AES256) loses"
t_like "$(cipher AES128-GCM-SHA256)" '^(\(NONE\))?$' "no cipher without forward secrecy (plain RSA key exchange)"
t_like "$(openssl s_client -connect "127.0.0.1:$VIP" -tls1_2 -CAfile "$T/vip.pem" </dev/null 2>/dev/null)" \
	"Compression: NONE" "no TLS compression"
# A client that asks to renegotiate gets a no_renegotiation alert and then
# nothing more on that connection; the server stays up.
{
	printf 'R\n'
	sleep 1
	printf 'GET /after-reneg HTTP/1.1\r\nHost: x\r\n\r\n'
	sleep 1
} | timeout 10 openssl s_client -connect "127.0.0.1:$VIP" -tls1_2 -CAfile "$T/vip.pem" >"$T/reneg.out" 2>&1
t_ok "a client-started renegotiation is refused" grep -q "no renegotiation" "$T/reneg.out"
t_ok "and that connection answers nothing more" ! grep -q "n1 GET /after-reneg" "$T/reneg.out"
t_is "$(curl -s --cacert "$T/vip.pem" "https://127.0.0.1:$VIP/still")" "n1 GET /still" "vigil still serves TLS clients"

head -c 200000 /dev/urandom >"$T/body"
t_like "$(curl -s --cacert "$T/vip.pem" --data-binary @"$T/body" "https://127.0.0.1:$VIP/up")" "body-bytes=200000" "an upload over TLS on both sides"
t_is "$(curl -s --cacert "$T/vip.pem" "https://127.0.0.1:$VIP/big?bytes=3000000" | wc -c)" 3000000 "a 3 MB answer over TLS on both sides"

# A connection vigil closes ends with close_notify: a client that refuses
# truncated TLS streams reads the whole answer of an HTTP/1.0 request.
cat >"$T/notify.py" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5),
                    server_hostname="127.0.0.1", suppress_ragged_eofs=False)
s.sendall(b"GET /n HTTP/1.0\r\n\r\n")
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    print("clean", data.split(b"\r\n")[0].decode())
except ssl.SSLEOFError:
    print("truncated")
PY
t_is "$($PY "$T/notify.py" "$VIP" "$T/vip.pem")" "clean HTTP/1.1 200 OK" "vigil ends TLS connections with close_notify"

# Garbage instead of a handshake, and a handshake cut half-way.
$PY - "$VIP" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 10)
try:
    s.recv(100)
except Exception:
    pass
s.close()
PY
timeout 5 openssl s_client -connect "127.0.0.1:$VIP" -tls1_2 </dev/null >/dev/null 2>&1 &
sleep 0.5
printf '\x16\x03\x01\x00\x05hello' | timeout 3 $PY -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', $VIP), timeout=3)
s.sendall(sys.stdin.buffer.read())
s.close()"
t_ok "vigil still runs after bad handshakes" kill -0 "$VIGIL_PID"
t_is "$(curl -s --cacert "$T/vip.pem" "https://127.0.0.1:$VIP/after")" "n1 GET /after" "and still serves"

# A node whose certificate the configured CA does not sign fails.
vigil_stop
write_conf "$T/other.pem"
vigil_start "$T/vigil.conf"
nostate() { curl -s "http://127.0.0.1:$ADMIN/api/status" | grep -q '"state":"unreachable"'; }
t_wait 10 "a node with a certificate from another CA is unreachable" nostate
t_like "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/vip.pem" "https://127.0.0.1:$VIP/")" "^503$" "and gets no client"

vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly"
t_done
