#!/usr/bin/env bash
# figures.sh: the "# figure: CASE: KEY=VALUE ..." lines the fault cases
# (and a few integration tests) print, as the Markdown table rows of
# docs/RELIABILITY.md:
#
#   make check TESTS="$(make -s print-fault-tests)"   # or a whole make check
#   bash tests/faults/figures.sh [BUILDDIR]
#
# One row per figure line: | test | case | figures |.
set -euo pipefail
dir=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
shopt -s nullglob
for log in "$dir"/tests/faults/*.log "$dir"/tests/integration/*.log; do
	case $log in *test-suite.log) continue ;; esac
	name=${log#"$dir"/}
	name=${name%.log}.sh
	sed -n 's/^# figure: \([^:]*\): \(.*\)$/\1\t\2/p' "$log" |
		while IFS=$'\t' read -r c figs; do
			printf '| `%s` | %s | %s |\n' "$name" "$c" "${figs// /, }"
		done
done
