#!/usr/bin/env bash
# samples.sh: the sample configurations in etc/ (vRO, UiPath, Genesys ORS)
# pass `vigil -t` as an operator would run it once the files they name
# exist. Each sample is copied with /etc/vigil/, /var/lib/vigil and
# /var/log/vigil/ moved under $T, and every file it names there is made:
# a self-signed certificate and key, 32-byte secrets, 0600 tokens and
# passwords, and the hook scripts of etc/hooks/ (so a sample can only name
# hooks that exist). Nothing is resolved: node and database addresses in
# the samples must be IP literals.
. "$top_srcdir/tests/integration/lib.sh"

SAMPLES=(vro-cluster uipath-nlb genesys-ors)

command -v openssl >/dev/null || t_skip_all "openssl is not installed"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$T/tls.key" -out "$T/tls.pem" -days 2 -subj /CN=vigil-sample \
	2>"$T/openssl.err" || {
	cat "$T/openssl.err" >&2
	t_bail "openssl could not make a certificate"
}

# make_file PATH RELATIVE: what the sample expects at /etc/vigil/RELATIVE.
make_file() {
	local dst=$1 rel=$2
	mkdir -p "$(dirname "$dst")"
	case $rel in
	hooks/*)
		[ -f "$top_srcdir/etc/$rel" ] || {
			echo "no etc/$rel for the sample's /etc/vigil/$rel" >&2
			return 1
		}
		cp "$top_srcdir/etc/$rel" "$dst" && chmod 0755 "$dst" ;;
	*.key) cp "$T/tls.key" "$dst" && chmod 0600 "$dst" ;;
	*.pem | *.crt) cp "$T/tls.pem" "$dst" && chmod 0644 "$dst" ;;
	*.secret) head -c 32 /dev/urandom >"$dst" && chmod 0640 "$dst" ;;
	pgpass) echo '*:*:*:*:sample' >"$dst" && chmod 0600 "$dst" ;;
	*.token | *.pass | *.cred)
		printf 'vigil:%s\n' "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$dst" &&
			chmod 0600 "$dst" ;;
	*)
		echo "samples.sh does not know what /etc/vigil/$rel holds; teach make_file" >&2
		return 1 ;;
	esac
}

# prepare NAME: $T/NAME/vigil.conf and the files it names; 0 when all made.
prepare() {
	local name=$1 root=$T/$1 src=$top_srcdir/etc/$1.conf rel rc=0
	mkdir -p "$root/etc" "$root/var/lib" "$root/var/log/vigil"
	sed -e "s|/etc/vigil/|$root/etc/|g" \
		-e "s|/var/lib/vigil|$root/var/lib/vigil|g" \
		-e "s|/var/log/vigil/|$root/var/log/vigil/|g" "$src" >"$root/vigil.conf" || return 1
	while read -r rel; do
		make_file "$root/etc/$rel" "$rel" || rc=1
	done < <(grep -v '^[[:space:]]*#' "$src" | grep -o '/etc/vigil/[A-Za-z0-9._/-]*' |
		sed 's|^/etc/vigil/||' | sort -u)
	return "$rc"
}

# The values of `address = "..."` (listen, nodes, admin) and of host= in a
# conninfo, comments left out.
addresses() {
	grep -v '^[[:space:]]*#' "$1" | grep -o 'address = "[^"]*"' | sed 's/^address = "//; s/"$//'
}
db_hosts() {
	grep -v '^[[:space:]]*#' "$1" | grep -o 'conninfo = "[^"]*"' | grep -o 'host=[^ "]*' | sed 's/^host=//'
}
ip_port() { # an IPv4 or [IPv6] literal with a port
	[[ $1 =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}:[0-9]+$ || $1 =~ ^\[[0-9A-Fa-f:.]+\]:[0-9]+$ ]]
}
ip_only() {
	[[ $1 =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ || $1 =~ ^[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*$ ]]
}

for name in "${SAMPLES[@]}"; do
	src=$top_srcdir/etc/$name.conf
	t_ok "$name.conf exists" test -f "$src"
	[ "$T_LAST" = 0 ] || continue

	bad=
	for a in $(addresses "$src"); do ip_port "$a" || bad="$bad $a"; done
	t_is "${bad# }" "" "$name.conf: every address is an IP literal (no DNS at load)"
	bad=
	for h in $(db_hosts "$src"); do ip_only "$h" || bad="$bad $h"; done
	t_is "${bad# }" "" "$name.conf: the database host is an IP literal"

	t_ok "$name.conf: the files it names can be made" prepare "$name"
	out=$("${VIGIL_CMD[@]}" -c "$T/$name/vigil.conf" -t 2>&1)
	rc=$?
	# the samples without a heartbeat database are warned about leadership
	out=$(grep -v '^warning: .*health.heartbeat is not set' <<<"$out")
	t_is "$rc" 0 "$name.conf: vigil -t exits 0"
	t_is "$out" "configuration OK" "$name.conf: vigil -t says configuration OK"

	# The comments are for operators: a sample explains itself.
	comments=$(grep -c '#' "$src")
	t_ok "$name.conf: commented ($comments comment lines)" test "$comments" -ge 30
done

# Not vacuous: the files made above are checked for real. A token that
# every user may read is refused, as in production.
chmod 0644 "$T/vro-cluster/etc/admin.token"
out=$("${VIGIL_CMD[@]}" -c "$T/vro-cluster/vigil.conf" -t 2>&1)
t_like "$out" "admin.token_file: .*readable by every user" "a sample with a world-readable token fails -t"

t_done
