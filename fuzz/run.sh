#!/usr/bin/env bash
# Runs every fuzz target of a libFuzzer build for SECONDS each, starting from its committed seed
# corpus (fuzz/corpus/TARGET) and the inputs it found before (BUILD/fuzz-corpus/TARGET).
# Prints one line per target (executions, corpus size, crashes) and fails when any target
# crashed; a crash input is left in BUILD/fuzz-crashes/TARGET/.
# Usage: fuzz/run.sh BUILD SECONDS
set -euo pipefail
build=${1:?usage: fuzz/run.sh BUILD SECONDS}
seconds=${2:?usage: fuzz/run.sh BUILD SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
# The targets' scratch suite files go here: in memory where possible (their fsyncs cost nothing
# there), and removed at the end even after a crash.
TMPDIR=$(mktemp -d -p /dev/shm evalkeep-fuzz.XXXXXX 2>/dev/null || mktemp -d)
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
symbolizer=$(command -v llvm-symbolizer-16 llvm-symbolizer | head -n 1 || true)
[ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH="$symbolizer"
# Targets run JOBS at a time (default 2, one a core), and report in a fixed order at the end.
jobs=${JOBS:-2}
fuzz_one() {
  local binary=$1 t=$2 status=0
  local corpus="$build/fuzz-corpus/$t" crashes="$build/fuzz-crashes/$t" log="$build/fuzz-$t.log"
  mkdir -p "$corpus" "$crashes"
  # -rss_limit_mb: the targets are small; a run that grows past this leaks.
  "$binary" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 \
    -timeout=20 -artifact_prefix="$crashes/" "$corpus" "$here/corpus/$t" >"$log" 2>&1 || status=$?
  echo "$status" >"$log.status"
}
targets=()
for binary in "$build"/fuzz/fuzz_*; do
  [ -x "$binary" ] && [ -f "$binary" ] || continue
  t=${binary##*/fuzz_}
  rm -f "$build/fuzz-$t.log.status"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  fuzz_one "$binary" "$t" &
  targets+=("$t")
done
wait
failed=0
passed=0
for t in "${targets[@]}"; do
  log="$build/fuzz-$t.log"
  status=$(cat "$log.status" 2>/dev/null || echo 1)
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  size=$(find "$build/fuzz-corpus/$t" -type f | wc -l)
  found=$(find "$build/fuzz-crashes/$t" -type f | wc -l)
  echo "fuzz: $t: $runs executions in ${seconds} s, corpus $size, crashes $found"
  if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
    failed=$((failed + 1))
    tail -n 40 "$log" >&2
  else
    passed=$((passed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
