#!/bin/bash
# run.sh: builds every tests/fuzz/fuzz-*.c with clang's libFuzzer and
# runs each for ${FUZZ_SECONDS:-20} seconds on a copy of its seed corpus
# (tests/fuzz/corpus/NAME); exits non-zero when one of them crashes.
# 20 s each keeps the seven targets at about 150 s in all (builds
# included) inside `make check`; give FUZZ_SECONDS=600 for a real search,
# and FUZZ_TARGETS="conf chunked" to run only those.
# A target names the sources it needs on a "FUZZ_SOURCES:" line, any
# libraries on a "FUZZ_LIBS:" line and pkg-config modules (their cflags
# and libs) on a "FUZZ_PKGS:" line (several lines add up); without sources,
# the .c beside every project header it includes is linked, with OpenSSL
# when those use it.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${top_builddir:-$root}
seconds=${FUZZ_SECONDS:-20}
cc=${FUZZ_CC:-clang}
flags=(-g -O1 "-fsanitize=fuzzer,address,undefined"
	"-fno-sanitize-recover=undefined")

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: $cc not found, skipped"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ return d && n ? 0 : 0; }\n' >"$tmp/probe.c"
if ! "$cc" "${flags[@]}" "$tmp/probe.c" -o "$tmp/probe" >/dev/null 2>&1; then
	echo "fuzz: $cc cannot build libFuzzer targets, skipped"
	exit 0
fi
if [ ! -f "$build/config.h" ]; then
	echo "fuzz: $build/config.h missing, run configure first" >&2
	exit 1
fi

failed=0
for src in "$root"/tests/fuzz/fuzz-*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	short=${name#fuzz-}
	if [ -n "${FUZZ_TARGETS:-}" ] &&
		[[ " $FUZZ_TARGETS " != *" $short "* ]]; then
		continue
	fi
	sources=$(sed -n 's/.*FUZZ_SOURCES:[[:space:]]*//p' "$src" | tr '\n' ' ')
	libs=$(sed -n 's/.*FUZZ_LIBS:[[:space:]]*//p' "$src" | tr '\n' ' ')
	pkgs=$(sed -n 's/.*FUZZ_PKGS:[[:space:]]*//p' "$src" | tr '\n' ' ')
	pkgflags=
	if [ -n "$pkgs" ]; then
		# shellcheck disable=SC2086
		if ! pkgflags=$(pkg-config --cflags --libs $pkgs); then
			echo "fuzz: $name: pkg-config $pkgs failed" >&2
			failed=1
			continue
		fi
	fi
	if [ -z "$sources" ]; then
		while read -r h; do
			[ -f "$root/$h.c" ] && sources="$sources $h.c"
		done < <(sed -n 's/^#include "\([^"]*\)\.h"/\1/p' "$src")
		for s in $sources; do
			if grep -q '#include <openssl/' "$root/$s"; then
				libs="$libs $(pkg-config --libs openssl 2>/dev/null ||
					echo -lssl -lcrypto)"
				break
			fi
		done
	fi
	objs=()
	for s in $sources; do
		objs+=("$root/$s")
	done
	echo "fuzz: building $name"
	read -ra libv <<<"$libs $pkgflags"
	if ! "$cc" "${flags[@]}" -I"$build" -I"$root" "${objs[@]}" "$src" \
		"${libv[@]}" -o "$tmp/$name"; then
		echo "fuzz: $name does not build" >&2
		failed=1
		continue
	fi
	mkdir -p "$tmp/corpus-$short" "$tmp/artifacts-$short"
	if [ -d "$root/tests/fuzz/corpus/$short" ]; then
		cp -R "$root/tests/fuzz/corpus/$short/." "$tmp/corpus-$short/"
	fi
	echo "fuzz: running $name for ${seconds}s"
	# libFuzzer reports what it finds itself, on stderr; the test harness's
	# sanitizer log_path (tests/integration/lib.sh) is for the programs
	# it runs, not for these
	if ! env -u ASAN_OPTIONS -u UBSAN_OPTIONS \
		"$tmp/$name" -max_total_time="$seconds" -timeout=10 \
		-print_final_stats=1 \
		-artifact_prefix="$tmp/artifacts-$short/" \
		"$tmp/corpus-$short" >"$tmp/$name.log" 2>&1; then
		tail -n 40 "$tmp/$name.log" >&2
		keep="$root/tests/fuzz/crash-$short"
		mkdir -p "$keep"
		cp -R "$tmp/artifacts-$short/." "$keep/"
		echo "fuzz: $name crashed; inputs kept in $keep" >&2
		failed=1
		continue
	fi
	grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units)' \
		"$tmp/$name.log"
done
exit "$failed"
