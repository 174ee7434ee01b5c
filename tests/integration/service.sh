#!/usr/bin/env bash
# service.sh: vigil as etc/vigil.service runs it. The generated unit (paths
# substituted, systemd-analyze verify when available); vigil started as root
# with nothing but the unit's capability bounding set, twice (the second
# start finds the spool it gave away to vigil.user), ending with no
# capability at all; and the sd_notify messages (READY=1, RELOADING=1,
# STOPPING=1) a Type=notify unit waits for, received on a NOTIFY_SOCKET.
. "$top_srcdir/tests/integration/lib.sh"

VIGIL=$top_builddir/vigil
UNIT=$top_builddir/etc/vigil.service

# --- the unit -----------------------------------------------------------------
t_ok "etc/vigil.service was generated" test -s "$UNIT"
t_is "$(grep -c '@[a-z_]*@' "$UNIT")" 0 "no @placeholder@ is left in the unit"
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
t_like "$exec_start" '^/[^ ]*/vigil -c /[^ ]*/vigil/vigil\.conf$' "ExecStart runs vigil -c SYSCONFDIR/vigil/vigil.conf"
t_like "$(grep '^Type=' "$UNIT")" '^Type=notify$' "Type=notify"
t_like "$(grep '^ExecReload=' "$UNIT" | head -1)" ' -t$' "a reload checks the file first"
t_like "$(grep '^ExecReload=' "$UNIT" | tail -1)" 'kill -HUP \$MAINPID$' "then sends SIGHUP"
bounding=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
t_like "$bounding" 'CAP_NET_BIND_SERVICE' "the bounding set keeps CAP_NET_BIND_SERVICE"
for opt in ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
	'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' SystemCallFilter=@system-service \
	LogsDirectory=vigil; do
	t_ok "unit has $opt" grep -qx "$opt" "$UNIT"
done

if command -v systemd-analyze >/dev/null; then
	# verify wants the programs to exist: point them at this build.
	sed -e "s|^ExecStart=[^ ]*|ExecStart=$VIGIL|" -e "s|^ExecReload=[^ ]*/vigil |ExecReload=$VIGIL |" \
		"$UNIT" >"$T/vigil.service"
	out=$(cd "$T" && SYSTEMD_LOG_LEVEL=warning timeout 60 systemd-analyze verify --man=no "$T/vigil.service" 2>&1)
	rc=$?
	# Outside a booted systemd (containers, build chroots) verify cannot
	# load its own units; that says nothing about ours.
	if grep -q 'vigil.service' <<<"$out" || [ "$rc" = 0 ]; then
		t_is "$out" "" "systemd-analyze verify finds nothing to say"
	else
		t_skip "systemd-analyze verify" "it cannot run here: $(head -1 <<<"$out")"
	fi
else
	t_skip "systemd-analyze verify" "systemd-analyze is not installed"
fi

# --- capabilities ------------------------------------------------------------
# The unit starts vigil as root with only $bounding; vigil must still start,
# and start again over its own spool, and then hold no capability.
caps=$(tr ' ' '\n' <<<"$bounding" | sed -n 's/^CAP_\(.*\)/+\L\1/p' | paste -sd, -)
if [ "$(id -u)" != 0 ]; then
	t_skip "started with the unit's capabilities" "needs root"
elif ! command -v setpriv >/dev/null || ! id nobody >/dev/null 2>&1; then
	t_skip "started with the unit's capabilities" "needs setpriv and the user nobody"
else
	# A port below 1024 that nothing listens on: CAP_NET_BIND_SERVICE at work.
	low=
	for p in $(shuf -i 600-1000 -n 40); do
		if ! port_open "$p"; then low=$p; break; fi
	done
	chmod 0711 "$T"
	mkdir -p "$T/svc" && chmod 0755 "$T/svc"
	cat >"$T/svc/vigil.conf" <<CONF
vigil = { user = "nobody"; spool_dir = "$T/svc/spool"; };
listen = ( { address = "127.0.0.1:${low:-$(free_port)}"; } );
cluster = { nodes = ( { name = "n1"; address = "127.0.0.1:9"; } ); };
notify = { channels = ( { type = "syslog"; events = ["config_reloaded"]; } ); };
CONF
	run_capped() {
		bg vigil setpriv --bounding-set "-all,$caps" --inh-caps=-all --no-new-privs -- \
			"${VIGIL_CMD[@]}" -c "$T/svc/vigil.conf"
		VIGIL_PID=$BG_PID
	}
	for round in first second; do
		run_capped
		t_wait 10 "$round start with $bounding only" grep -q 'started' "$T/vigil.log"
		if [ "$round" = first ]; then
			t_is "$(stat -c %U "$T/svc/spool" 2>/dev/null)" nobody "the spool was given to vigil.user"
		fi
		t_is "$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$VIGIL_PID/status" 2>/dev/null)" \
			0000000000000000 "$round start: the running daemon has no capability left"
		t_is "$(stat -c %U "/proc/$VIGIL_PID" 2>/dev/null)" nobody "$round start: it runs as vigil.user"
		vigil_stop
		t_is "$VIGIL_STATUS" 0 "$round start: SIGTERM stops it with exit 0"
		[ "$T_LAST" = 0 ] || t_diag "$(tail -n 20 "$T/vigil.log")"
	done
	# The never-root variant: started as vigil.user already, vigil has
	# nothing to drop and starts all the same (on a port above 1024).
	sed -i "s/127.0.0.1:${low:-[0-9]*}/127.0.0.1:$(free_port)/" "$T/svc/vigil.conf"
	bg vigil setpriv --reuid nobody --regid "$(id -g nobody)" --clear-groups -- \
		"$VIGIL" -c "$T/svc/vigil.conf"
	VIGIL_PID=$BG_PID
	t_wait 10 "started as vigil.user already: it starts" grep -q 'started' "$T/vigil.log"
	t_is "$(stat -c %U "/proc/$VIGIL_PID" 2>/dev/null)" nobody "and runs as vigil.user"
	vigil_stop
	t_is "$VIGIL_STATUS" 0 "and SIGTERM stops it with exit 0"
	[ "$T_LAST" = 0 ] || t_diag "$(tail -n 20 "$T/vigil.log")"
fi

# --- sd_notify -----------------------------------------------------------------
# Type=notify waits for READY=1: the daemon must send it. Until core/daemon.c
# calls core/sdnotify.c, vigil does not contain it, and this part waits.
if ! grep -qa 'sdnotify_ready\|READY=1' "$VIGIL"; then
	t_skip "vigil sends READY=1 to NOTIFY_SOCKET" "core/daemon.c does not call sdnotify_ready() yet"
elif [ -z "$_T_PY" ]; then
	t_skip "vigil sends READY=1 to NOTIFY_SOCKET" "python3 is not installed"
else
	bg notify "$_T_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    print("listening", file=out, flush=True)
    while True:
        print(s.recv(4096).decode().replace("\n", " "), file=out, flush=True)
' "$T/notify.sock" "$T/notify.got"
	wait_for 10 grep -q listening "$T/notify.got"
	port=$(free_port)
	cat >"$T/notify.conf" <<CONF
vigil = { spool_dir = "$T/spool"; };
listen = ( { address = "127.0.0.1:$port"; } );
cluster = { nodes = ( { name = "n1"; address = "127.0.0.1:9"; } ); };
CONF
	NOTIFY_SOCKET=$T/notify.sock vigil_start "$T/notify.conf"
	t_wait 10 "READY=1 once vigil listens" grep -q '^READY=1' "$T/notify.got"
	t_ok "and vigil does listen by then" port_open "$port"
	kill -HUP "$VIGIL_PID"
	t_wait 10 "RELOADING=1 on SIGHUP" grep -q '^RELOADING=1.*MONOTONIC_USEC=[0-9]' "$T/notify.got"
	t_wait 10 "READY=1 again when the reload is over" \
		bash -c "grep -A100 '^RELOADING=1' '$T/notify.got' | grep -q '^READY=1'"
	vigil_stop
	t_like "$(cat "$T/notify.got")" '^STOPPING=1' "STOPPING=1 on SIGTERM"
	t_is "$VIGIL_STATUS" 0 "exit 0"
fi

t_done
