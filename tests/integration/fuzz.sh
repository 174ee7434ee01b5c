#!/usr/bin/env bash
# fuzz.sh: every libFuzzer target in tests/fuzz/ built with clang and run
# for FUZZ_SECONDS from its seed corpus (tests/fuzz/corpus/NAME): no crash,
# no leak, no undefined behaviour. The targets:
#   http       request and response heads, chunked bodies, split in two
#   response   answers as the proxy reads them: 1xx, then the final one,
#              framed by content-length, chunked coding or close; HEAD,
#              CONNECT, 204 and 304
#   chunked    the chunked scanner alone, split every way, against a
#              lenient reading of the grammar
#   conf       the configuration loader (conf_load and conf_reload)
#   heartbeat  the reader of the heartbeat query's answer
#   cookie     the stickiness cookie verifier
#   json       vigilctl's JSON reader
# FUZZ_SECONDS is run.sh's, 20 s per target by default: seven targets and
# their builds take about 150 s. A crash input is kept in
# tests/fuzz/crash-NAME/.
. "$top_srcdir/tests/integration/lib.sh"

command -v clang >/dev/null || t_skip_all "clang is not installed"
bash "$top_srcdir/tests/fuzz/run.sh" >"$T/fuzz.out" 2>&1
rc=$?
if grep -q "skipped" "$T/fuzz.out" && [ "$rc" = 0 ]; then
	t_skip_all "$(grep skipped "$T/fuzz.out" | head -1)"
fi
while IFS= read -r line; do t_diag "$line"; done < <(tail -n 40 "$T/fuzz.out")
t_is "$rc" 0 "every fuzz target ran ${FUZZ_SECONDS:-20} s without a crash"
t_done
