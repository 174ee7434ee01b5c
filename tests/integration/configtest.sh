#!/usr/bin/env bash
# configtest.sh: the command line as users meet it: `vigil -t` on good and
# broken files (exit codes, FILE:LINE in every message, all errors at once),
# `vigil -V`, usage errors, and the start failures that exit 2.
. "$top_srcdir/tests/integration/lib.sh"


port=$(free_port)
cat >"$T/good.conf" <<CONF
vigil = { name = "t1"; spool_dir = "$T/spool"; };
listen = ( { address = "127.0.0.1:$port"; } );
cluster = { nodes = ( { name = "n1"; address = "127.0.0.1:8281"; } ); };
CONF

out=$("${VIGIL_CMD[@]}" -c "$T/good.conf" -t 2>&1); rc=$?
t_is "$rc" 0 "-t on a good file exits 0"
t_is "$(tail -n 1 <<<"$out")" "configuration OK" "-t on a good file prints configuration OK"
t_like "$out" "^warning: $T/good.conf: health.heartbeat is not set: this appliance is its own leader; with several appliances in front of cluster" \
	"-t warns, without a heartbeat database, that the appliance is its own leader"
out=$("${VIGIL_CMD[@]}" -c "$T/good.conf" -t 2>/dev/null)
t_is "$out" "configuration OK" "the warning goes to stderr"

cat >"$T/bad.conf" <<'CONF'
vigil = { workers = 100; };
listen = ( { address = "127.0.0.1:0"; } );
cluster = {
  nodes = ( { name = "n1"; address = "127.0.0.1:8281"; },
            { name = "n1"; address = "127.0.0.1:8282"; unknown = 1; } );
};
health = { probe = { running = "(oops"; }; };
CONF
"${VIGIL_CMD[@]}" -c "$T/bad.conf" -t >"$T/out" 2>"$T/err"; rc=$?
t_is "$rc" 1 "-t on a broken file exits 1"
t_is "$(cat "$T/out")" "" "-t on a broken file prints nothing on stdout"
err=$(cat "$T/err")
t_like "$err" "^$T/bad.conf:1: vigil.workers: 100 is out of range \[0..64\]" "range error with file and line"
t_like "$err" "$T/bad.conf:2: listen\[0\].address: \"127.0.0.1:0\": the port must be 1..65535" "address error"
t_like "$err" "$T/bad.conf:5: cluster.nodes\[1\].unknown: unknown setting" "unknown setting"
t_like "$err" "$T/bad.conf:5: cluster.nodes\[1\].name: duplicate node name \"n1\" \(also at line 4\)" "duplicate node"
t_like "$err" "$T/bad.conf:7: health.probe.running: bad pattern" "PCRE2 pattern that does not compile"
t_like "$err" "configuration has 5 errors" "every error at once, counted"

printf 'listen = ( { address = "127.0.0.1:1"; } );\ncluster = { x = ; };\n' >"$T/syntax.conf"
"${VIGIL_CMD[@]}" -c "$T/syntax.conf" -t >/dev/null 2>"$T/err"; rc=$?
t_is "$rc" 1 "syntax error exits 1"
t_like "$(cat "$T/err")" "^$T/syntax.conf:2: syntax error" "syntax error names file and line"

"${VIGIL_CMD[@]}" -c "$T/missing.conf" -t >/dev/null 2>"$T/err"; rc=$?
t_is "$rc" 1 "missing file exits 1"
t_like "$(cat "$T/err")" "$T/missing.conf: cannot read the file: No such file or directory" "missing file named"

# Files OpenSSL must load are checked by -t, and fail a normal start too.
printf 'not a certificate\n' >"$T/cert.pem"
cat >"$T/tls.conf" <<CONF
listen = ( { address = "127.0.0.1:$port"; tls = { certificate = "$T/cert.pem"; key = "$T/cert.pem"; }; } );
cluster = { nodes = ( { name = "n1"; address = "127.0.0.1:8281"; } ); };
CONF
"${VIGIL_CMD[@]}" -c "$T/tls.conf" -t >/dev/null 2>"$T/err"; rc=$?
t_is "$rc" 1 "-t refuses a certificate OpenSSL cannot load"
t_like "$(cat "$T/err")" "tls.conf:1: listen\[0\].tls: $T/cert.pem: OpenSSL cannot load the certificate" "certificate error named"
timeout 30 "${VIGIL_CMD[@]}" -c "$T/tls.conf" >/dev/null 2>"$T/err"; rc=$?
t_is "$rc" 1 "starting with a bad certificate exits 1"

out=$("${VIGIL_CMD[@]}" -V); rc=$?
t_is "$rc" 0 "-V exits 0"
t_like "$out" "^vigil [0-9]+\.[0-9]+\.[0-9]+" "-V prints the version"
for lib in libev OpenSSL libpq PCRE2 libconfig libcurl; do
	t_like "$out" "$lib" "-V names $lib"
done

"${VIGIL_CMD[@]}" >/dev/null 2>"$T/err"; rc=$?
t_is "$rc" 1 "no arguments: usage, exit 1"
t_like "$(cat "$T/err")" "usage: vigil -c FILE" "usage text"
"${VIGIL_CMD[@]}" -c "$T/good.conf" -x >/dev/null 2>&1; rc=$?
t_is "$rc" 1 "unknown option exits 1"

# Start failures exit 2 with the reason on one line.
bg holder /usr/bin/python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(1); time.sleep(60)"
wait_for 10 port_open "$port"
timeout 30 "${VIGIL_CMD[@]}" -c "$T/good.conf" >/dev/null 2>"$T/err"; rc=$?
t_is "$rc" 2 "an address in use exits 2"
t_like "$(cat "$T/err")" "127.0.0.1:$port: cannot bind: Address already in use" "the address is named"

port2=$(free_port)
cat >"$T/user.conf" <<CONF
vigil = { user = "no-such-user-vigil"; spool_dir = "$T/spool"; };
listen = ( { address = "127.0.0.1:$port2"; } );
cluster = { nodes = ( { name = "n1"; address = "127.0.0.1:8281"; } ); };
CONF
timeout 30 "${VIGIL_CMD[@]}" -c "$T/user.conf" >/dev/null 2>"$T/err"; rc=$?
t_is "$rc" 2 "a user that does not exist exits 2"
t_like "$(cat "$T/err")" "user.conf: vigil.user: no such user \"no-such-user-vigil\"" "the user is named"

t_done
