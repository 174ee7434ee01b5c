# shellcheck shell=bash disable=SC2034
# (SC2034: T_LAST, SIM_STATUS, VIGIL_STATUS, ... are set for the tests)
# tests/integration/lib.sh: the TAP harness every integration test sources:
#
#   . "$top_srcdir/tests/integration/lib.sh"
#
# `make check` sets top_srcdir and top_builddir (absolute); run by hand, both
# default to the source tree this file is in. TAP goes to stdout; everything a
# helper runs logs to stderr (the test's .log file) or to files in $T.
#
# Assertions (each prints "ok N - DESC" or "not ok N - DESC" and returns 0, so
# a test under `set -e` goes on after a failure; T_LAST is 0 or 1):
#   t_ok DESC CMD...            CMD exits 0 ("t_ok DESC ! CMD..." inverts)
#   t_is GOT EXPECTED DESC      string equality
#   t_like GOT ERE DESC         grep -E match
#   t_wait SECONDS DESC CMD...  CMD succeeds within SECONDS (retried every 0.1 s)
#   t_skip DESC REASON          "ok N - DESC # SKIP REASON"
#   t_diag MSG...               "# MSG" lines
#   t_skip_all REASON           "1..0 # SKIP REASON", exit 0
#   t_done                      the plan "1..N", exit 0
#   t_bail REASON               "Bail out! REASON", exit 1
# Helpers:
#   wait_for SECONDS CMD...     like t_wait, returns 0/1, records nothing
#   free_port                   an unused TCP port on 127.0.0.1 (never the same twice in a test)
#   port_open PORT [HOST]       something accepts TCP connections there
#   $T                          per-test temp dir, removed on exit (kept if KEEP_TMP=1)
#   on_exit CMD...              extra cleanup; runs (last registered first) before
#                               the background processes are stopped and $T removed
#   bg NAME CMD...              CMD in the background, output in $T/NAME.log; sets BG_PID;
#                               a program gets a process group of its own (setsid)
#   pg_start                    throw-away PostgreSQL on 127.0.0.1:<free port> (as nobody
#                               when root), database vigil with table vigil_heartbeat;
#                               exports PG_CONNINFO PGHOST PGPORT PGUSER PGDATABASE, sets
#                               PG_PID; copied from a template made once per build tree
#                               ($top_builddir/tests/.pg-template)
#   pg_stop, pg_start_again     fast shutdown / start again on the same port, data kept
#   psql_q SQL...               prints the unaligned, tuples-only result
#   sim_start NAME STATE [ARGS...]  a tests/sim/vigil-sim node, ready when it returns;
#                               SIM_PID[NAME]; log $T/sim-NAME.log, port in $T/sim-NAME.port
#   sim_port NAME, simctl NAME CMD..., sim_stop NAME (sets SIM_STATUS)
#   http_raw PORT BYTES         BYTES (with \r\n escapes) sent as they are; prints the
#                               first line of the answer, read until the peer closes
#   vigil_start CONF [ARGS...]  ./vigil -c CONF ARGS..., log $T/vigil.log; sets VIGIL_PID
#   "${VIGIL_CMD[@]}" ARGS...   ./vigil in the foreground (vigil -t, start failures),
#                               under memcheck too with VIGIL_VALGRIND=1
#   vigil_stop                  SIGTERM, wait up to 10 s (then SIGKILL); sets VIGIL_STATUS
# pg_start and sim_start return 1 (with the log's end on stderr) when they fail.
# Under a sanitizer build, or with VIGIL_VALGRIND=1 (vigil under memcheck),
# t_done fails the test for every report (see "sanitizers" below).
#
# Everything is bounded in time. Background processes must be started from the
# test's main shell (not inside $(...)), so the harness can wait for them.
# Do not set your own EXIT/INT/TERM traps: use on_exit.

if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir

T_N=0            # assertions so far
T_FAILED=0       # failed assertions so far
T_LAST=0         # 0 if the last assertion passed, 1 if not
_T_DONE=0        # the plan was printed
_T_CLEANED=0
_T_ONEXIT=()     # cleanup commands (printf %q-quoted)
_T_PIDS=()       # background processes to stop on exit
declare -gA _T_PIDSIG=()   # pid -> signal that stops it at cleanup
declare -gA _T_PIDGRP=()   # pid -> 1 if it leads its own process group
declare -gA SIM_PID=()     # sim name -> pid
BG_PID=
VIGIL_PID=
VIGIL_STATUS=
PG_PID=
PG_DIR=
: "${T_CMD_TIMEOUT:=120}"  # bound for a single external command run by t_ok

T=$(mktemp -d "${TMPDIR:-/tmp}/vigil-$(basename "$0" .sh).XXXXXX") || {
	echo "Bail out! cannot create a temporary directory"
	exit 1
}
export T

_T_DEFSIG=()
if env --default-signal=INT,QUIT true 2>/dev/null; then _T_DEFSIG=(env "--default-signal=INT,QUIT"); fi
if [ -x /usr/bin/python3 ]; then _T_PY=/usr/bin/python3; else _T_PY=$(command -v python3 || true); fi

# ---------------------------------------------------------------- TAP output

t_diag() {
	local line
	while IFS= read -r line; do printf '# %s\n' "$line"; done <<<"$*"
}

_t_result() { # STATUS DESC [DIRECTIVE]
	local desc=${2//$'\n'/ }
	desc=${desc//\#/\\#}
	T_N=$((T_N + 1))
	if [ "$1" -eq 0 ]; then
		T_LAST=0
		printf 'ok %d - %s%s\n' "$T_N" "$desc" "${3:+ # $3}"
	else
		T_LAST=1
		T_FAILED=$((T_FAILED + 1))
		printf 'not ok %d - %s\n' "$T_N" "$desc"
	fi
}

# _t_run CMD...: run CMD; "!" as the first word inverts; an external command is
# bounded by $T_CMD_TIMEOUT seconds (or $_T_BOUND when set).
_t_run() {
	if [ "${1:-}" = "!" ]; then
		shift
		if _t_run "$@"; then return 1; else return 0; fi
	fi
	if [ "$(type -t "$1")" = file ]; then
		timeout -k 2 "${_T_BOUND:-$T_CMD_TIMEOUT}" "$@"
	else
		"$@"
	fi
}

t_ok() {
	local desc=$1 rc=0
	shift
	_t_run "$@" >&2 || rc=$?
	_t_result "$rc" "$desc"
	if [ "$rc" -ne 0 ]; then
		t_diag "  failed (exit $rc): $*"
	fi
	return 0
}

t_is() {
	local got=$1 expected=$2 desc=${3:-}
	if [ "$got" == "$expected" ]; then
		_t_result 0 "$desc"
	else
		_t_result 1 "$desc"
		t_diag "         got: '$got'"
		t_diag "    expected: '$expected'"
	fi
	return 0
}

t_like() {
	local got=$1 re=$2 desc=${3:-}
	if grep -Eq -- "$re" <<<"$got"; then
		_t_result 0 "$desc"
	else
		_t_result 1 "$desc"
		t_diag "         got: '$got'"
		t_diag "  not like: /$re/"
	fi
	return 0
}

t_skip() { # DESC REASON
	_t_result 0 "$1" "SKIP ${2:-}"
	return 0
}

t_skip_all() {
	printf '1..0 # SKIP %s\n' "${1:-}"
	_T_DONE=1
	exit 0
}

t_done() {
	set +e # the cleanup commands' own failures are not the test's
	_t_stop_all
	_t_reports
	printf '1..%d\n' "$T_N"
	_T_DONE=1
	exit 0
}

t_bail() {
	printf 'Bail out! %s\n' "${1:-}"
	_T_DONE=1
	exit 1
}

# ---------------------------------------------------------------- waiting

_t_usec() { # SECONDS (N or N.M) -> microseconds
	local s=$1 int frac=
	int=${s%%.*}
	[[ $s == *.* ]] && frac=${s#*.}
	frac=${frac}000000
	frac=${frac:0:6}
	[[ ${int:-0} =~ ^[0-9]+$ && $frac =~ ^[0-9]+$ ]] || {
		echo "lib.sh: bad number of seconds: $s" >&2
		echo 0
		return 1
	}
	echo $((10#${int:-0} * 1000000 + 10#$frac))
}

_t_now() { _T_NOW=${EPOCHREALTIME//[!0-9]/}; }

# _t_wait_for SECONDS CMD...: 0 when CMD succeeded in time; the last attempt's
# output is left in $_T_WAIT_OUT.
_t_wait_for() {
	local us deadline left
	us=$(_t_usec "$1") || return 1
	shift
	_T_WAIT_OUT=$T/.wait_for.out
	_t_now
	deadline=$((_T_NOW + us))
	while :; do
		_t_now
		left=$(((deadline - _T_NOW + 999999) / 1000000))
		[ "$left" -ge 1 ] || left=1
		if _T_BOUND=$left _t_run "$@" >"$_T_WAIT_OUT" 2>&1; then
			return 0
		fi
		_t_now
		[ "$_T_NOW" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

wait_for() {
	local secs=$1
	shift
	_t_wait_for "$secs" "$@" && return 0
	{
		echo "wait_for: gave up after ${secs} s: $*"
		tail -n 20 "$_T_WAIT_OUT" 2>/dev/null
	} >&2
	return 1
}

t_wait() {
	local secs=$1 desc=$2
	shift 2
	if _t_wait_for "$secs" "$@"; then
		_t_result 0 "$desc"
	else
		_t_result 1 "$desc"
		t_diag "  still failing after ${secs} s: $*"
		if [ -s "$_T_WAIT_OUT" ]; then
			t_diag "  its last output:"
			t_diag "$(tail -n 20 "$_T_WAIT_OUT" | sed 's/^/    /')"
		fi
	fi
	return 0
}

# ---------------------------------------------------------------- ports

free_port() {
	local port
	if [ -n "$_T_PY" ]; then
		port=$("$_T_PY" - "$T/.ports" <<'EOF'
import random, socket, sys
used = set()
try:
    with open(sys.argv[1]) as f:
        used = {int(x) for x in f.read().split()}
except OSError:
    pass
# Below the kernel's ephemeral range, so that no outgoing connection's local
# port gets in the way between now and the moment the test binds it.
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        hi = int(f.read().split()[0])
except (OSError, ValueError, IndexError):
    hi = 32768
lo = 10000 if hi > 12000 else 1024
for _ in range(500):
    p = random.randrange(lo, hi)
    if p in used:
        continue
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    sys.exit(0)
sys.exit(1)
EOF
		) || return 1
	else
		local i
		for i in $(seq 1 200); do
			port=$((10000 + RANDOM % 20000))
			grep -qx "$port" "$T/.ports" 2>/dev/null && continue
			port_open "$port" || break
		done
	fi
	echo "$port" >>"$T/.ports"
	echo "$port"
}

port_open() { # PORT [HOST]
	# shellcheck disable=SC2016
	timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "${2:-127.0.0.1}" "$1" 2>/dev/null
}

# ---------------------------------------------------------------- processes

on_exit() {
	_T_ONEXIT+=("$(printf '%q ' "$@")")
}

_t_track() { # PID SIGNAL GROUP(0/1)
	_T_PIDS+=("$1")
	_T_PIDSIG[$1]=$2
	_T_PIDGRP[$1]=$3
}

_t_untrack() {
	local p keep=()
	for p in "${_T_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	_T_PIDS=("${keep[@]}")
	unset "_T_PIDSIG[$1]" "_T_PIDGRP[$1]"
}

# _t_stop_pid PID SIGNAL SECONDS [GROUP]: signal PID (with GROUP=1 its whole
# process group), wait up to SECONDS, then SIGKILL; sets _T_STATUS (the exit
# status) and _T_KILLED (1 if SIGKILL was needed).
_t_stop_pid() {
	local pid=$1 sig=$2 us deadline
	_T_STATUS=0
	_T_KILLED=0
	us=$(_t_usec "$3")
	if kill -0 "$pid" 2>/dev/null; then
		if [ "${4:-0}" = 1 ]; then
			kill -s "$sig" -- "-$pid" 2>/dev/null || kill -s "$sig" "$pid" 2>/dev/null || true
		else
			kill -s "$sig" "$pid" 2>/dev/null || true
		fi
		_t_now
		deadline=$((_T_NOW + us))
		while kill -0 "$pid" 2>/dev/null; do
			_t_now
			if [ "$_T_NOW" -ge "$deadline" ]; then
				kill -s KILL "$pid" 2>/dev/null || true
				_T_KILLED=1
				break
			fi
			sleep 0.05
		done
	fi
	_T_STATUS=0
	wait "$pid" 2>/dev/null || _T_STATUS=$?
	_t_untrack "$pid"
	return 0
}

# bg NAME CMD...: a program runs in a process group of its own (setsid), a
# shell function in a subshell. The previous $T/NAME.log, if any, is appended
# to $T/NAME.log.old.
bg() {
	local name=$1 log
	shift
	log=$T/$name.log
	[ -e "$log" ] && cat "$log" >>"$log.old"
	if [ "$(type -t "$1")" = file ]; then
		# env --default-signal: a background job of a script starts with SIGINT
		# and SIGQUIT ignored, which a shell script could not undo
		setsid "${_T_DEFSIG[@]}" "$@" >"$log" 2>&1 </dev/null &
		BG_PID=$!
		_t_track "$BG_PID" TERM 1
	else
		"$@" >"$log" 2>&1 </dev/null &
		BG_PID=$!
		_t_track "$BG_PID" TERM 0
	fi
}

# _t_stop_all: the on_exit commands (last registered first), then every
# background process, each once.
_t_stop_all() {
	local i pid grp
	for ((i = ${#_T_ONEXIT[@]} - 1; i >= 0; i--)); do
		eval "${_T_ONEXIT[i]}" >&2
	done
	_T_ONEXIT=()
	for ((i = ${#_T_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${_T_PIDS[i]}
		grp=${_T_PIDGRP[$pid]:-0}
		_t_stop_pid "$pid" "${_T_PIDSIG[$pid]:-TERM}" 5 "$grp"
		# whatever is left in a process group the harness created (usually
		# nothing, so kill fails: t_done runs this under set -e)
		if [ "$grp" = 1 ]; then kill -s KILL -- "-$pid" 2>/dev/null || true; fi
	done
	return 0
}

_t_cleanup() {
	local rc=$?
	[ "$_T_CLEANED" = 1 ] && return
	_T_CLEANED=1
	set +e
	# the TAP reader may be gone already (make check interrupted): a write to
	# stdout must not end the cleanup
	trap '' PIPE
	trap - INT TERM HUP
	_t_stop_all
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "lib.sh: kept $T" >&2
	else
		rm -rf "$T"
		[ -n "${_T_PGEXTRA:-}" ] && rm -rf "$_T_PGEXTRA"
	fi
	if [ "$_T_DONE" != 1 ]; then
		printf '# the test stopped (exit status %d) before t_done\n' "$rc" 2>/dev/null
	fi
}

trap _t_cleanup EXIT

# ---------------------------------------------------------------- sanitizers

# In a build with AddressSanitizer and UndefinedBehaviorSanitizer
# (./configure --enable-sanitizers), every report of a program the test runs
# (vigil, vigilctl, the simulator) goes to $T/sanitizer.PID; with
# VIGIL_VALGRIND=1, vigil_start runs vigil under valgrind's memcheck, its
# reports in $T/valgrind.PID (tests/valgrind.supp lists the library reports
# that are not vigil's, each with its reason). t_done stops every process
# first (so leaks found at exit are reported too), then fails the test for
# each report.
_T_SANITIZED=0
if ldd "$top_builddir/vigil" 2>/dev/null | grep -q libasan; then
	_T_SANITIZED=1
	export ASAN_OPTIONS="log_path=$T/sanitizer:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	export UBSAN_OPTIONS="log_path=$T/sanitizer:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
fi
_T_VALGRIND=()
if [ "${VIGIL_VALGRIND:-0}" = 1 ]; then
	# definite and indirect leaks are errors; "still reachable" (what
	# libraries keep until exit) is not. --vgdb=no: no gdbserver FIFOs in
	# /tmp, which vigil could not remove once it runs as vigil.user.
	_T_VALGRIND=(valgrind -q --tool=memcheck --error-exitcode=99
		--leak-check=full --show-leak-kinds=definite,indirect
		--errors-for-leak-kinds=definite,indirect --child-silent-after-fork=yes
		--vgdb=no
		"--suppressions=$top_srcdir/tests/valgrind.supp"
		"--log-file=$T/valgrind.%p")
	# more options for a closer look, e.g.
	# VIGIL_VALGRIND_OPTS="--track-origins=yes --num-callers=40"
	# shellcheck disable=SC2206
	_T_VALGRIND+=(${VIGIL_VALGRIND_OPTS:-})
	echo "lib.sh: vigil runs under valgrind memcheck, reports in $T/valgrind.PID" >&2
fi
VIGIL_CMD=("${_T_VALGRIND[@]}" "$top_builddir/vigil")

_t_reports() {
	local f
	for f in "$T"/sanitizer.* "$T"/valgrind.*; do
		[ -s "$f" ] || continue
		_t_result 1 "no sanitizer or valgrind report ($(basename "$f"))"
		t_diag "$(head -n 60 "$f")"
	done
	return 0
}
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- PostgreSQL

_T_PGUSER=vigil       # the superuser of the throw-away clusters
_T_PGSCHEMA="CREATE TABLE vigil_heartbeat (node text PRIMARY KEY, beat timestamptz NOT NULL);"

_t_pg_bindir() {
	local d
	[ -n "${_T_PGBIN:-}" ] && return 0
	for d in "$(pg_config --bindir 2>/dev/null)" /usr/lib/postgresql/*/bin; do
		if [ -n "$d" ] && [ -x "$d/postgres" ] && [ -x "$d/initdb" ]; then
			_T_PGBIN=$d
			return 0
		fi
	done
	echo "lib.sh: no PostgreSQL server binaries (install the Debian package postgresql)" >&2
	return 1
}

_t_pg_chown() {
	if [ "$(id -u)" = 0 ]; then chown -R "$(id -u nobody):$(id -g nobody)" "$@"; fi
}

# _t_pg_launch DATADIR PORT SOCKDIR LOG: start the postmaster in the background
# (process group of its own); sets _T_PGLAUNCH_PID. Returns 0 once it accepts
# connections, 2 if the port was taken, 1 otherwise.
_t_pg_launch() {
	local data=$1 port=$2 sock=$3 log=$4 i
	(cd / && exec setsid "${_T_AS_PG[@]}" "$_T_PGBIN/postgres" -D "$data" -p "$port" \
		-c listen_addresses=127.0.0.1 -c "unix_socket_directories=$sock" \
		-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
		-c shared_buffers=16MB -c logging_collector=off \
		-c "log_line_prefix=%m [%p] " \
		>>"$log" 2>&1 </dev/null) &
	_T_PGLAUNCH_PID=$!
	for i in $(seq 1 300); do # 30 s
		if ! kill -0 "$_T_PGLAUNCH_PID" 2>/dev/null; then
			wait "$_T_PGLAUNCH_PID" 2>/dev/null || true
			if grep -q 'could not bind\|already in use' "$log" 2>/dev/null; then return 2; fi
			return 1
		fi
		if "$_T_PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1 >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# As root, PostgreSQL runs as nobody: "${_T_AS_PG[@]}" CMD...
_t_pg_setup_user() {
	_T_AS_PG=()
	if [ "$(id -u)" = 0 ]; then
		id nobody >/dev/null 2>&1 || {
			echo "lib.sh: running as root needs the user nobody for PostgreSQL" >&2
			return 1
		}
		_T_AS_PG=(setpriv "--reuid=$(id -u nobody)" "--regid=$(id -g nobody)" --clear-groups --)
	fi
}

# The template cluster (database vigil with the heartbeat table), made once
# and copied for every test; a lock serializes parallel tests.
_t_pg_template() {
	local tmpl=$top_builddir/tests/.pg-template want
	want="$("$_T_PGBIN/postgres" --version) uid=$(id -u) schema=1"
	_T_PGTMPL=$tmpl
	if [ "$(cat "$tmpl/stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
	mkdir -p "$top_builddir/tests" || return 1
	(
		exec 8>"$tmpl.lock"
		flock -w 300 8 || {
			echo "lib.sh: timed out waiting for $tmpl.lock" >&2
			exit 1
		}
		[ "$(cat "$tmpl/stamp" 2>/dev/null)" = "$want" ] && exit 0
		rm -rf "$tmpl" "$tmpl.new" || exit 1
		work=$(mktemp -d /tmp/vigil-pgtmpl.XXXXXX) || exit 1
		pid=
		trap '[ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null && wait "$pid"; rm -rf "$work"' EXIT
		chmod 711 "$work"
		mkdir "$work/data" && _t_pg_chown "$work/data" || exit 1
		echo "lib.sh: making the PostgreSQL template in $tmpl" >&2
		(cd / && "${_T_AS_PG[@]}" "$_T_PGBIN/initdb" -D "$work/data" -U "$_T_PGUSER" \
			-A trust -E UTF8 --locale=C --no-sync --no-instructions) >"$work/initdb.log" 2>&1 || {
			cat "$work/initdb.log" >&2
			exit 1
		}
		ok=
		for _ in 1 2 3; do
			port=$(free_port) || exit 1
			st=0
			_t_pg_launch "$work/data" "$port" "" "$work/pg.log" || st=$?
			pid=$_T_PGLAUNCH_PID
			[ "$st" = 0 ] && ok=1 && break
			pid=
			[ "$st" = 2 ] || break
		done
		[ -n "$ok" ] || {
			cat "$work/pg.log" >&2
			exit 1
		}
		psql=("$_T_PGBIN/psql" -XAtq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$_T_PGUSER")
		timeout 60 "${psql[@]}" -d postgres -c "CREATE DATABASE vigil" >&2 &&
			timeout 60 "${psql[@]}" -d vigil -c "$_T_PGSCHEMA" >&2 || exit 1
		kill -INT "$pid" && wait "$pid"
		pid=
		mkdir "$tmpl.new" && cp -a "$work/data" "$tmpl.new/data" &&
			echo "$want" >"$tmpl.new/stamp" && mv "$tmpl.new" "$tmpl"
	)
}

pg_start() {
	local st sock
	_t_pg_bindir || return 1
	_t_pg_setup_user || return 1
	_t_pg_template || {
		echo "lib.sh: could not make the PostgreSQL template" >&2
		return 1
	}
	PG_DIR=$T/pg
	if [ "$(id -u)" = 0 ]; then
		chmod 711 "$T"
		if ! "${_T_AS_PG[@]}" test -x "$T"; then
			# $TMPDIR is closed to nobody: keep the cluster in /tmp instead
			_T_PGEXTRA=$(mktemp -d /tmp/vigil-pg.XXXXXX) || return 1
			chmod 711 "$_T_PGEXTRA"
			PG_DIR=$_T_PGEXTRA/pg
		fi
	fi
	rm -rf "$PG_DIR"
	cp -a "$_T_PGTMPL/data" "$PG_DIR" || return 1
	sock=$PG_DIR
	[ "${#sock}" -le 90 ] || sock=
	for _ in 1 2 3; do
		PGPORT=$(free_port) || return 1
		st=0
		_t_pg_launch "$PG_DIR" "$PGPORT" "$sock" "$T/pg.log" || st=$?
		if [ "$st" = 0 ]; then
			PG_PID=$_T_PGLAUNCH_PID
			_t_track "$PG_PID" QUIT 1
			_T_PGSOCK=$sock
			export PGHOST=127.0.0.1 PGPORT PGUSER=$_T_PGUSER PGDATABASE=vigil
			export PG_CONNINFO="host=127.0.0.1 port=$PGPORT dbname=vigil user=$_T_PGUSER connect_timeout=2"
			return 0
		fi
		[ "$st" = 2 ] || break
		echo "lib.sh: port $PGPORT was taken, trying another" >&2
	done
	echo "lib.sh: PostgreSQL did not start; $T/pg.log:" >&2
	tail -n 30 "$T/pg.log" >&2
	return 1
}

pg_stop() {
	[ -n "$PG_PID" ] || return 0
	_t_stop_pid "$PG_PID" INT 30
	PG_PID=
}

pg_start_again() {
	[ -n "$PG_DIR" ] || {
		echo "lib.sh: pg_start_again without pg_start" >&2
		return 1
	}
	pg_stop
	if _t_pg_launch "$PG_DIR" "$PGPORT" "$_T_PGSOCK" "$T/pg.log"; then
		PG_PID=$_T_PGLAUNCH_PID
		_t_track "$PG_PID" QUIT 1
		return 0
	fi
	echo "lib.sh: PostgreSQL did not start again; $T/pg.log:" >&2
	tail -n 30 "$T/pg.log" >&2
	return 1
}

psql_q() {
	local a args=()
	for a in "$@"; do args+=(-c "$a"); done
	PGCONNECT_TIMEOUT=5 timeout 60 "$_T_PGBIN/psql" -XAtq -v ON_ERROR_STOP=1 \
		-h 127.0.0.1 -p "$PGPORT" -U "$_T_PGUSER" -d vigil "${args[@]}"
}

# ---------------------------------------------------------------- simulated nodes

_T_SIM=$top_builddir/tests/sim/vigil-sim
_T_SIMCTL=$top_builddir/tests/sim/vigil-simctl

sim_start() {
	local name=$1 state=$2 port i pid args
	shift 2
	local sock=$T/sim-$name.sock log=$T/sim-$name.log
	for _ in 1 2 3; do
		port=$(free_port) || return 1
		rm -f "$sock"
		args=(--name "$name" --state "$state" --listen "127.0.0.1:$port" --control "$sock")
		[ -n "${PG_CONNINFO:-}" ] && args+=(--conninfo "$PG_CONNINFO")
		bg "sim-$name" "$_T_SIM" "${args[@]}" "$@"
		pid=$BG_PID
		SIM_PID[$name]=$pid
		echo "$port" >"$T/sim-$name.port"
		echo "$pid" >"$T/sim-$name.pid"
		for i in $(seq 1 100); do # 10 s
			kill -0 "$pid" 2>/dev/null || break
			if [ -S "$sock" ] && timeout 5 "$_T_SIMCTL" "$sock" status >/dev/null 2>&1; then
				return 0
			fi
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null || ! grep -qi 'in use' "$log"; then break; fi
		_t_stop_pid "$pid" TERM 5
		echo "lib.sh: sim $name: port $port was taken, trying another" >&2
	done
	echo "lib.sh: sim $name did not become ready in 10 s; $log:" >&2
	tail -n 30 "$log" >&2
	return 1
}

sim_port() {
	cat "$T/sim-$1.port"
}

simctl() {
	local name=$1
	shift
	timeout 10 "$_T_SIMCTL" "$T/sim-$name.sock" "$@"
}

sim_stop() {
	local pid=${SIM_PID[$1]:-}
	[ -n "$pid" ] || return 0
	_t_stop_pid "$pid" TERM 10
	SIM_STATUS=$_T_STATUS
	unset "SIM_PID[$1]"
}

# ---------------------------------------------------------------- raw HTTP

# http_raw PORT BYTES: sends BYTES (printf-style escapes: \r\n) to
# 127.0.0.1:PORT as they are, reads until the peer closes, and prints the
# first line of what came back (nothing when it closed without a word).
http_raw() {
	"$_T_PY" - "$1" "$2" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.decode("latin-1").split("\r\n")[0])
PY
}

# ---------------------------------------------------------------- vigil

# vigil_status PORT NODE FIELD: a field of GET /api/status on admin port
# PORT: of node NODE, or of the document itself when NODE is "-"; FIELD
# may be dotted (restart.state). Strings as they are, the rest as JSON;
# nothing when vigil does not answer.
vigil_status() {
	curl -s --max-time 2 "http://127.0.0.1:$1/api/status" |
		/usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
node, field = sys.argv[1], sys.argv[2]
if node == "-":
    v = d[field]
else:
    v = [n for n in d["nodes"] if n["name"] == node][0]
    for k in field.split("."):
        v = v[k]
print(json.dumps(v) if not isinstance(v, str) else v)' "$2" "$3" 2>/dev/null
}


vigil_start() {
	local conf=$1
	shift
	bg vigil "${VIGIL_CMD[@]}" -c "$conf" "$@"
	VIGIL_PID=$BG_PID
}

vigil_stop() {
	[ -n "$VIGIL_PID" ] || return 0
	_t_stop_pid "$VIGIL_PID" TERM 10
	VIGIL_STATUS=$_T_STATUS
	if [ "$_T_KILLED" = 1 ]; then
		t_diag "vigil did not exit within 10 s of SIGTERM; killed it"
	fi
	VIGIL_PID=
}
