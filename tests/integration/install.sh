#!/usr/bin/env bash
# install.sh: `make install DESTDIR=...` from the build tree, as a packager
# runs it: every file where an operator (or dpkg) expects it, with sane
# modes; the man pages render without a warning; no vigil.conf is
# installed; a hook the operator edited survives a second install; and
# `make uninstall` takes away what it installed and nothing else. The build
# is done already (make check built it): this only installs.
. "$top_srcdir/tests/integration/lib.sh"

MAKE=${MAKE:-make}
ROOT=$T/root
# A make of our own, not a part of the `make check` that runs this test.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		$MAKE -C "$top_builddir" --no-print-directory "$@"
}

mk install "DESTDIR=$ROOT" >"$T/install.log" 2>&1
rc=$?
cat "$T/install.log" >&2
t_is "$rc" 0 "make install DESTDIR=\$T/root"
t_is "$(grep -E '^ *(CC|CCLD|AR|GEN) ' "$T/install.log")" "" "installing builds nothing"

# find_one PATTERN: the one installed file whose path matches PATTERN.
find_one() {
	find "$ROOT" -path "$ROOT$1" \( -type f -o -type l \) | head -1
}
mode() { stat -c %a "$1" 2>/dev/null; }

vigil=$(find_one '*/sbin/vigil')
t_ok "vigil is installed in sbin" test -n "$vigil"
t_is "$(mode "$vigil")" 755 "vigil is mode 0755"
t_ok "the installed vigil runs (-V)" "$vigil" -V
if [ -x "$top_builddir/vigilctl" ]; then
	vigilctl=$(find_one '*/bin/vigilctl')
	t_is "$(mode "$vigilctl")" 755 "vigilctl is installed in bin, mode 0755"
else
	t_skip "vigilctl is installed in bin" "vigilctl is not built in this tree"
fi

# --- man pages ------------------------------------------------------------------
for page in man8/vigil.8 man5/vigil.conf.5 man8/vigilctl.8; do
	f=$(find_one "*/man/$page")
	t_ok "$page is installed" test -n "$f"
	t_is "$(mode "$f")" 644 "$page is mode 0644"
	t_ok "$page is the one in docs/" cmp "$f" "$top_srcdir/docs/${page#*/}"
	if command -v groff >/dev/null; then
		out=$(groff -t -man -Tutf8 -ww -z "$f" 2>&1)
		t_is "$out" "" "$page: groff -man -ww has no warning"
	else
		t_skip "$page: groff -man -ww has no warning" "groff is not installed"
	fi
	if command -v man >/dev/null; then
		# As lintian does: the whole man pipeline, 80 columns.
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 MAN_DISABLE_SECCOMP=1 man --warnings -E UTF-8 -l "$f" 2>&1 >"$T/page.txt")
		t_is "$out" "" "$page: man -l renders it without a warning"
		t_ok "$page: and it is not empty" grep -q 'SEE ALSO' "$T/page.txt"
	else
		t_skip "$page: man -l renders it without a warning" "man is not installed"
	fi
done

# --- systemd unit ---------------------------------------------------------------
unit=$(find_one '*/systemd/system/vigil.service')
if grep -q '^systemdsystemunitdir = no$' "$top_builddir/Makefile"; then
	t_is "$unit" "" "no unit with --with-systemdsystemunitdir=no"
else
	t_ok "vigil.service is installed in .../systemd/system" test -n "$unit"
	t_is "$(mode "$unit")" 644 "vigil.service is mode 0644"
	exec=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
	t_ok "its ExecStart ($exec) is the vigil installed" test "$ROOT$exec" -ef "$vigil"
fi
conf=$(sed -n 's/^ExecStart=[^ ]* -c \([^ ]*\).*/\1/p' "$top_builddir/etc/vigil.service")
etcdir=$(dirname "$conf") # SYSCONFDIR/vigil

# --- configuration: samples, never vigil.conf ---------------------------------
t_ok "no vigil.conf is installed (an operator's is never replaced)" test ! -e "$ROOT$conf"
for s in vro-cluster uipath-nlb genesys-ors; do
	f=$(find_one "*/doc/vigil/examples/$s.conf")
	t_ok "$s.conf is installed in DOCDIR/examples" test -n "$f"
	t_is "$(mode "$f")" 644 "$s.conf is mode 0644"
	t_ok "$s.conf is the one in etc/" cmp "$f" "$top_srcdir/etc/$s.conf"
done
f=$(find_one "*/doc/vigil/examples/keepalived.conf")
t_ok "keepalived.conf is installed in DOCDIR/examples" test -n "$f"
t_is "$(mode "$f")" 644 "keepalived.conf is mode 0644"
t_ok "keepalived.conf is the one in etc/keepalived/" cmp "$f" "$top_srcdir/etc/keepalived/keepalived.conf"
t_ok "nothing is installed in keepalived's own folder" test -z "$(find "$ROOT" -path '*/keepalived/keepalived.conf' -not -path '*/doc/*')"

# --- hooks ------------------------------------------------------------------------
hooks=$ROOT$etcdir/hooks
for h in restart-vro restart-systemd page-oncall; do
	t_is "$(mode "$hooks/$h")" 755 "hook $h is in SYSCONFDIR/vigil/hooks, mode 0755"
	t_ok "hook $h is the one in etc/hooks/" cmp "$hooks/$h" "$top_srcdir/etc/hooks/$h"
done
# keepalived's scripts, where the example keepalived.conf points
for h in vigil-check vigil-notify; do
	f=$ROOT$etcdir/keepalived/$h
	t_is "$(mode "$f")" 755 "$h is in SYSCONFDIR/vigil/keepalived, mode 0755"
	t_ok "$h is the one in etc/keepalived/" cmp "$f" "$top_srcdir/etc/keepalived/$h"
	t_ok "the example keepalived.conf names it in SYSCONFDIR/vigil/keepalived" \
		grep -q "\"/etc/vigil/keepalived/$h " "$top_srcdir/etc/keepalived/keepalived.conf"
done
echo '# edited by the operator' >>"$hooks/restart-vro"
cp "$hooks/restart-vro" "$T/edited"
t_ok "make install again, over an edited hook" mk install "DESTDIR=$ROOT"
t_ok "the edited hook is kept" cmp "$hooks/restart-vro" "$T/edited"
t_ok "the shipped version is beside it as restart-vro.dist" \
	cmp "$hooks/restart-vro.dist" "$top_srcdir/etc/hooks/restart-vro"
t_ok "hooks as shipped get no .dist" test ! -e "$hooks/page-oncall.dist"

# --- uninstall ------------------------------------------------------------------
t_ok "make uninstall DESTDIR=\$T/root" mk uninstall "DESTDIR=$ROOT"
left=$(cd "$ROOT" && find . -type f | sort)
t_is "$left" "./${etcdir#/}/hooks/restart-vro" "uninstall leaves only the hook the operator edited"

t_done
