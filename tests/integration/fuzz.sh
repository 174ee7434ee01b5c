#!/usr/bin/env bash
# fuzz.sh: every libFuzzer target in tests/fuzz/ (the HTTP parser and the
# chunked scanner, the cookie verifier, vigilctl's JSON reader) built with
# clang and run for FUZZ_SECONDS (60 by default) from its seed corpus: no
# crash, no leak, no undefined behaviour. A crash input is kept in
# tests/fuzz/crash-NAME/.
. "$top_srcdir/tests/integration/lib.sh"

command -v clang >/dev/null || t_skip_all "clang is not installed"
FUZZ_SECONDS=${FUZZ_SECONDS:-60} bash "$top_srcdir/tests/fuzz/run.sh" >"$T/fuzz.out" 2>&1
rc=$?
if grep -q "skipped" "$T/fuzz.out" && [ "$rc" = 0 ]; then
	t_skip_all "$(grep skipped "$T/fuzz.out" | head -1)"
fi
while IFS= read -r line; do t_diag "$line"; done < <(tail -n 20 "$T/fuzz.out")
t_is "$rc" 0 "every fuzz target ran ${FUZZ_SECONDS:-60} s without a crash"
t_done
