#!/bin/sh
# Runs every built libFuzzer target for FUZZ_SECONDS on a copy of its seed
# corpus.  Any crash, leak or sanitizer report fails the run.
# Usage: tests/fuzz/run.sh BUILD_DIR [SECONDS]
set -u
build=$1
secs=${2:-60}
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
for exe in "$build"/tests/fuzz/fuzz_*; do
	[ -f "$exe" ] && [ -x "$exe" ] || continue
	name=${exe##*/fuzz_}
	mkdir -p "$work/$name"
	[ -d "$src/corpus/$name" ] && cp -r "$src/corpus/$name/." "$work/$name/"
	echo "fuzz: $name for ${secs}s"
	if "$exe" -max_total_time="$secs" -max_len=1048576 -rss_limit_mb=2048 \
	    -artifact_prefix="$work/crash-$name-" -print_final_stats=1 \
	    "$work/$name" >"$work/$name.log" 2>&1; then
		pass=$((pass + 1))
		grep -E '^stat::number_of_executed_units' "$work/$name.log" | sed "s/^/  $name: /"
	else
		fail=$((fail + 1))
		tail -n 40 "$work/$name.log"
		mkdir -p tests/artifacts && cp "$work"/crash-"$name"-* tests/artifacts/ 2>/dev/null
		echo "fuzz: $name FAILED (artifacts in tests/artifacts/)"
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$pass" -gt 0 ] && [ "$fail" -eq 0 ]
