#!/usr/bin/env bash
# A run against an account's rate limit: as fast as the limit allows, nothing errored, few 429s.
#
#   bash bench/rate_limit.sh PATH/TO/evalkeep [N]        (cases, default 2000)
#
# bench/gen_suite.sh's N cases in a fresh git repository, answered by the stand-in from
# bench/peer-rules.json at LATENCY_MS (default 50) and limited to RPM requests a minute (default
# 6000) in a bucket of one second (`evalkeep-standin --rpm RPM --burst-s 1`: the strict case, where
# the limit binds from the first second), run with
#   evalkeep -q run --provider local --judge local --no-cache -j JOBS      (default 64)
# RUNS times (default 1). The time the limit allows is the answered requests (answers and judge
# calls, 200s in the stand-in's log) over the limit's rate, less the second the full bucket
# lets through at once. Targets (issue "rate limits"): at most 1.15x that time, no case ended as an
# error, at most 5% of requests answered 429. Prints a Markdown table; exits 1 if a target is
# missed, 2 on bad arguments, 3 if a run went wrong. bench/peer.sh measures promptfoo on the same
# limiter.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 PATH/TO/evalkeep [N]" >&2
  exit 2
fi
n=${2:-2000}
rpm=${RPM:-6000}
latency=${LATENCY_MS:-50}
jobs=${JOBS:-64}
runs=${RUNS:-1}
for v in "$n" "$rpm" "$jobs" "$runs"; do
  [[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge 1 ] || { echo "$0: N, RPM, JOBS and RUNS must be whole numbers >= 1, got '$v'" >&2; exit 2; }
done
[[ $latency =~ ^[0-9]+$ ]] || { echo "$0: LATENCY_MS must be a whole number" >&2; exit 2; }
[ -x "$1" ] && [ ! -d "$1" ] || { echo "$0: '$1' is not an executable; build it first" >&2; exit 2; }
evalkeep="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
standin="$(dirname "$evalkeep")/evalkeep-standin"
[ -x "$standin" ] || { echo "$0: no evalkeep-standin next to $evalkeep" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

. "$here/timing.sh"
. "$here/harness.sh"
make_work evalkeep-ratelimit

repo="$work/repo"
init_repo "$repo"
bash "$here/gen_suite.sh" "$n" "$work/suite.jsonl"
(cd "$repo" && "$evalkeep" -q import "$work/suite.jsonl" >/dev/null)
start_standin "$latency" --rules "$here/peer-rules.json" --rpm "$rpm" --burst-s 1
printf '\n[providers.local]\ntype = "openai"\nbase_url = "http://127.0.0.1:%s/v1"\nmodel = "stand-in"\n' \
  "$port" >>"$repo/evalkeep.toml"

echo "rate-limit bench: $("$evalkeep" --version), $n cases, stand-in at $latency ms limited to $rpm requests a minute, -j $jobs"
echo "machine: $(nproc) cores, load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
failed=0
rows=()
for ((r = 1; r <= runs; r++)); do
  rm -f "$repo/.evalkeep/runs.db" "$repo/.evalkeep/runs.db-wal" "$repo/.evalkeep/runs.db-shm"
  reset_stats
  timed "$work/run.json" env -C "$repo" "$evalkeep" -q run --provider local --judge local --no-cache \
    -j "$jobs" --json
  [ "$rc" -le 1 ] || { echo "$0: evalkeep run exited $rc: $(head -n 5 "$work/run.json.err")" >&2; exit 3; }
  read -r answered limited < <(standin_statuses)
  errored=$(grep -o '"errored": *[0-9]*' "$work/run.json" | head -n 1 | grep -o '[0-9]*$')
  allowed=$(awk -v a="$answered" -v rpm="$rpm" 'BEGIN { s = a / (rpm / 60) - 1; printf "%.2f", (s > 0 ? s : 0) }')
  wall=$(awk -v ns="$wall_ns" 'BEGIN { printf "%.2f", ns / 1e9 }')
  x=$(awk -v w="$wall" -v a="$allowed" 'BEGIN { printf "%.2f", w / a }')
  pct=$(awk -v l="$limited" -v a="$answered" 'BEGIN { printf "%.1f", 100 * l / (a + l) }')
  ok=PASS
  awk -v x="$x" -v p="$pct" -v e="$errored" 'BEGIN { exit !(x <= 1.15 && p <= 5 && e == 0) }' || { ok=FAIL; failed=1; }
  rows+=("| $r | $answered | $wall s | $allowed s | ${x}x | $errored | $limited ($pct%) | $ok |")
done
echo
echo "| run | requests answered | wall time | the limit allows | ratio | cases errored | answered 429 | ≤ 1.15x, 0 errors, ≤ 5% 429s |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
printf '%s\n' "${rows[@]}"
[ "$failed" = 0 ] || { echo "FAIL: a target was missed" >&2; exit 1; }
