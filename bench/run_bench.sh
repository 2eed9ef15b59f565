#!/usr/bin/env bash
# Benchmarks `evalkeep run` against the stand-in model server, next to a minimal libcurl multi
# client sending the identical requests (the floor), all in the same run.
#
#   bash bench/run_bench.sh PATH/TO/evalkeep [N]        (N cases, default 10000)
#
# evalkeep-standin must sit next to evalkeep (both are built by the top-level CMake project).
# In a temporary git repository it generates N cases (bench/gen_suite.sh), imports them, writes
# a [providers.local] table pointing at the stand-in, and compiles two helpers with g++:
#   bench/curl_client.cpp   the floor: POSTs bodies with curl_multi, reads the responses, no more
#   bench/make_bodies.cpp   the bodies evalkeep sends, one a line, from `evalkeep export`
# Then, each measure best of RUNS (default 3), evalkeep and the client taking turns:
#   (a) `evalkeep -q run --provider local --no-cache -j 32`, stand-in at 0 ms latency
#   (b) the client, the same bodies, 32 in flight                 -> ratio a/b (target <= 1.25)
#   (c) `evalkeep -q run ... -j 64`, stand-in at 50 ms            -> requests/s (target >= 90% of
#       64 / 0.05 s = 1,280), and the client at 64 in flight for comparison
#   peak RSS (max over the (a) runs, target < 100 MB) and CPU per case (user+sys of evalkeep /
#   requests, median of the (a) runs, target < 0.5 ms) from /usr/bin/time.
# Wall time is the whole process (start-up, reading the suite, storing, the summary), taken with
# `date +%s%N` around it, for evalkeep and the client alike. Each run starts with an empty runs
# store (.evalkeep/runs.db removed), and the stand-in's counters reset (POST /__reset); after
# it, GET /__stats must show exactly the expected number of requests and, for the client, the
# same count of requests per prompt (`by_case`) as evalkeep's run.
# evalkeep exits 1 when cases fail (most do: the stand-in answers "I can help with that."); only
# an exit code above 1 is an error. Prints a table and exits 1 if a target is missed, 3 if a run
# went wrong. Needs bash, awk, git, coreutils, g++, libcurl's headers and nlohmann/json.hpp;
# uses curl for the stand-in's /__stats when installed (bash's /dev/tcp otherwise) and
# /usr/bin/time (Debian package `time`) for CPU and RSS (without it those rows are skipped).
# KEEP=1 keeps the temporary directory; RUNS=K changes the number of runs of each measure;
# SUITE=FILE.jsonl uses that suite instead of generating one (N is then ignored).
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 PATH/TO/evalkeep [N]" >&2
  exit 2
fi
n=${2:-10000}
if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ]; then
  echo "$0: N must be a whole number of at least 1, got '$n'" >&2
  exit 2
fi
if [ ! -x "$1" ] || [ -d "$1" ]; then
  echo "$0: '$1' is not an executable; build it first" >&2
  exit 2
fi
evalkeep="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
standin="$(dirname "$evalkeep")/evalkeep-standin"
if [ ! -x "$standin" ]; then
  echo "$0: no evalkeep-standin next to $evalkeep; build the evalkeep-standin target" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
runs=${RUNS:-3}
if ! [[ $runs =~ ^[0-9]+$ ]] || [ "$runs" -lt 1 ]; then
  echo "$0: RUNS must be a whole number of at least 1" >&2
  exit 2
fi
suite_file=${SUITE:-}
if [ -n "$suite_file" ]; then
  suite_file="$(cd "$(dirname "$suite_file")" && pwd)/$(basename "$suite_file")"
fi
command -v g++ >/dev/null 2>&1 || { echo "$0: g++ is needed to build the client" >&2; exit 2; }

. "$here/timing.sh"
. "$here/harness.sh"
make_work evalkeep-runbench

die() { # CODE MESSAGE
  echo "$0: $2" >&2
  exit "$1"
}

have_time=0
[ -x /usr/bin/time ] && have_time=1

secs() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }

echo "evalkeep run bench: $("$evalkeep" --version), N=$n, best of $runs"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$evalkeep")/CMakeCache.txt" 2>/dev/null || true)
echo "binary: $evalkeep (CMAKE_BUILD_TYPE=${build_type:-unknown})"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1), $(uname -sr), $(curl-config --version 2>/dev/null || echo libcurl)"
echo "time: $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null)"

# The helpers.
g++ -O2 -std=c++20 "$here/curl_client.cpp" -lcurl -o "$work/curl_client"
g++ -O2 -std=c++20 "$here/make_bodies.cpp" -o "$work/make_bodies"

# The suite, in a fresh git repository.
repo="$work/repo"
init_repo "$repo"
if [ -n "$suite_file" ]; then
  cp "$suite_file" "$repo/suite.jsonl"
else
  bash "$here/gen_suite.sh" "$n" "$repo/suite.jsonl"
fi
(cd "$repo" && "$evalkeep" -q import suite.jsonl >/dev/null)
cp "$repo/evalkeep.toml" "$work/evalkeep.toml.orig"
(cd "$repo" && "$evalkeep" export) | "$work/make_bodies" stand-in >"$work/bodies.txt"
expected=$(wc -l <"$work/bodies.txt")
body_bytes=$(stat -c %s "$work/bodies.txt")
echo "suite: $(grep -c '"type":"case"' "$repo/suite.jsonl") cases; $expected requests to send, $body_bytes bytes of bodies"
echo

# The stand-in at a given latency, and evalkeep.toml as init wrote it plus a provider for it.
start_local() { # LATENCY_MS
  start_standin "$1"
  {
    cat "$work/evalkeep.toml.orig"
    printf '\n[providers.local]\ntype = "openai"\nbase_url = "http://127.0.0.1:%s/v1"\nmodel = "stand-in"\n' "$port"
  } >"$repo/evalkeep.toml"
}

# Checks the stand-in's counters after a run; prints a checksum of its requests per prompt.
check_stats() { # LABEL
  local stats requests by_case
  stats=$(standin_http GET /__stats)
  requests=$(printf '%s' "$stats" | grep -o '"requests":[0-9]*' | head -n 1 | cut -d : -f 2)
  [ "$requests" = "$expected" ] ||
    die 3 "$1: the stand-in counted ${requests:-no} requests, expected $expected"
  by_case=${stats#*\"by_case\":}
  by_case=${by_case%%,\"by_path\":*}
  printf '%s' "$by_case" | cksum | cut -d ' ' -f 1
}

run_evalkeep() { # JOBS
  rm -f "$repo/.evalkeep/runs.db" "$repo/.evalkeep/runs.db-wal" "$repo/.evalkeep/runs.db-shm"
  reset_stats
  timed "$work/evalkeep.out" env -C "$repo" -u OPENAI_API_KEY \
    "$evalkeep" -q run --provider local --no-cache -j "$1"
  if [ "$rc" -gt 1 ]; then
    cat "$work/evalkeep.out.err" >&2
    die 3 "evalkeep run -j $1 exited $rc"
  fi
  ek_sum=$(check_stats "evalkeep -j $1") || exit 3
}

run_client() { # IN_FLIGHT
  reset_stats
  timed "$work/client.out" "$work/curl_client" "http://127.0.0.1:$port/v1/chat/completions" \
    "$work/bodies.txt" "$1"
  if [ "$rc" != 0 ]; then
    cat "$work/client.out.err" >&2
    die 3 "the client at $1 in flight exited $rc"
  fi
  local sum
  sum=$(check_stats "client $1") || exit 3
  [ "$sum" = "$ek_sum" ] ||
    die 3 "the client's requests per prompt differ from evalkeep's (by_case checksums $sum, $ek_sum)"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# (a) and (b): 0 ms latency, 32 in flight.
start_local 0
a_ns="" b_ns="" a_cpus=() a_rss=0 b_cpus=()
for ((r = 1; r <= runs; r++)); do
  run_evalkeep 32
  a_ns=$(min "$a_ns" "$wall_ns")
  a_cpus+=("$cpu_s")
  if [ "$rss_kib" != "-" ] && [ "$rss_kib" -gt "$a_rss" ]; then a_rss=$rss_kib; fi
  echo "  0 ms  evalkeep -j 32   run $r: $(secs "$wall_ns") s, CPU $cpu_s s, max RSS $rss_kib KiB, exit $rc"
  if [ "$r" = 1 ]; then summary=$(head -n 3 "$work/evalkeep.out"); fi
  run_client 32
  b_ns=$(min "$b_ns" "$wall_ns")
  b_cpus+=("$cpu_s")
  echo "  0 ms  client 32        run $r: $(secs "$wall_ns") s, CPU $cpu_s s, max RSS $rss_kib KiB"
done

# (c): 50 ms latency, 64 in flight.
start_local 50
c_ns="" d_ns="" c_cpus=()
for ((r = 1; r <= runs; r++)); do
  run_evalkeep 64
  c_ns=$(min "$c_ns" "$wall_ns")
  c_cpus+=("$cpu_s")
  echo "  50 ms evalkeep -j 64   run $r: $(secs "$wall_ns") s, CPU $cpu_s s, max RSS $rss_kib KiB, exit $rc"
  run_client 64
  d_ns=$(min "$d_ns" "$wall_ns")
  echo "  50 ms client 64        run $r: $(secs "$wall_ns") s, CPU $cpu_s s"
done
stop_standin
echo
echo "evalkeep's summary (first run):"
printf '%s\n' "$summary" | sed 's/^/  /'
echo

ratio=$(awk -v a="$a_ns" -v b="$b_ns" 'BEGIN { printf "%.2f", a / b }')
c_rps=$(awk -v n="$expected" -v t="$c_ns" 'BEGIN { printf "%.0f", n / (t / 1e9) }')
d_rps=$(awk -v n="$expected" -v t="$d_ns" 'BEGIN { printf "%.0f", n / (t / 1e9) }')
c_pct=$(awk -v r="$c_rps" 'BEGIN { printf "%.1f", 100 * r / 1280 }')
d_pct=$(awk -v r="$d_rps" 'BEGIN { printf "%.1f", 100 * r / 1280 }')

verdict() { # VALUE LIMIT OP -> PASS when VALUE OP LIMIT holds
  if awk -v v="$1" -v l="$2" -v op="$3" \
    'BEGIN { exit !(op == "<" ? v < l : op == "<=" ? v <= l : v >= l) }'; then
    echo PASS
  else
    echo FAIL
  fi
}
row() { printf '%-44s %-22s %-14s %s\n' "$@"; }

r_ratio=$(verdict "$ratio" 1.25 "<=")
r_rps=$(verdict "$c_pct" 90 ">=")
row "measure" "value" "target" "result"
row "(a) evalkeep run -j 32, 0 ms, wall" "$(secs "$a_ns") s" "-" "info"
row "(b) curl_client 32 in flight, 0 ms, wall" "$(secs "$b_ns") s" "-" "info"
row "    ratio a/b" "${ratio}x" "<= 1.25x" "$r_ratio"
row "(c) evalkeep run -j 64, 50 ms, requests/s" "$c_rps ($c_pct%)" ">= 1152 (90%)" "$r_rps"
row "    curl_client 64 in flight, 50 ms" "$d_rps ($d_pct%)" "-" "info"
results="$r_ratio $r_rps"
if [ $have_time = 1 ]; then
  a_cpu=$(median "${a_cpus[@]}")
  b_cpu=$(median "${b_cpus[@]}")
  c_cpu=$(median "${c_cpus[@]}")
  rss_mb=$(awk -v k="$a_rss" 'BEGIN { printf "%.1f", k / 1024 }')
  per_case=$(awk -v c="$a_cpu" -v n="$expected" 'BEGIN { printf "%.3f", 1000 * c / n }')
  per_case_c=$(awk -v c="$c_cpu" -v n="$expected" 'BEGIN { printf "%.3f", 1000 * c / n }')
  per_req_b=$(awk -v c="$b_cpu" -v n="$expected" 'BEGIN { printf "%.3f", 1000 * c / n }')
  r_rss=$(verdict "$rss_mb" 100 "<")
  r_cpu=$(verdict "$per_case" 0.5 "<")
  row "peak RSS, evalkeep run (a), max" "$rss_mb MB" "< 100 MB" "$r_rss"
  row "CPU per case, evalkeep (a), median" "$per_case ms ($a_cpu s)" "< 0.5 ms" "$r_cpu"
  row "    CPU per case, evalkeep (c), median" "$per_case_c ms ($c_cpu s)" "-" "info"
  row "    CPU per request, curl_client (b)" "$per_req_b ms ($b_cpu s)" "-" "info"
  results="$results $r_rss $r_cpu"
else
  echo "peak RSS and CPU: /usr/bin/time is not installed (Debian package time); not measured"
fi
echo
echo "requests per run: $expected (checked against the stand-in's /__stats after every run)"
echo "wall times: whole process, best of $runs; RSS: max of the (a) runs; CPU: median"
if [ "$n" != 10000 ] && [ -z "$suite_file" ]; then
  echo "note: the targets are stated for N=10000; this run used N=$n"
fi
if [[ "$results" == *FAIL* ]]; then
  echo "FAIL: a target was missed" >&2
  exit 1
fi
echo "all targets met"
