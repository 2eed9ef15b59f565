#!/usr/bin/env bash
# Benchmarks the suite store against the targets in docs/PERFORMANCE.md.
#
#   bash bench/run.sh PATH/TO/evalkeep [N]        (N cases, default 100000)
#
# In a temporary git repository it generates a suite of N cases (bench/gen_suite.sh) and times:
#   import      `evalkeep import` into a fresh suite, best of IMPORT_RUNS (default 3) fresh suites
#   list        `evalkeep list --json > /dev/null`, best of 3
#   version     `evalkeep --version`, mean of 200 runs
#   export      `evalkeep export -o FILE`, best of 3
#   size        suite.db bytes / export bytes
# Each is paired with a baseline timed in the same run, so figures can be compared as ratios on a
# noisy machine: the sqlite3 shell loading the same JSONL lines into a one-column table (import),
# the sqlite3 shell reading every row of the same cases table (list, export), /bin/true (version).
# Peak RSS and CPU time of import and list come from /usr/bin/time (Debian package `time`) when
# it exists. Timing uses `date +%s%N`, and hyperfine for --version when it is installed; nothing
# beyond bash, awk, git and coreutils is required.
# Prints a table and exits 1 if a target is missed (targets are stated for N=100000).
# KEEP=1 keeps the temporary directory.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 PATH/TO/evalkeep [N]" >&2
  exit 2
fi
n=${2:-100000}
if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ]; then
  echo "$0: N must be a whole number of at least 1, got '$n'" >&2
  exit 2
fi
if [ ! -x "$1" ] || [ -d "$1" ]; then
  echo "$0: '$1' is not an executable; build it first (make build)" >&2
  exit 2
fi
evalkeep="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
import_runs=${IMPORT_RUNS:-3}

work="$(mktemp -d "${TMPDIR:-/tmp}/evalkeep-bench.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then
  echo "keeping $work" >&2
else
  trap 'rm -rf "$work"' EXIT
fi

have_time=0
[ -x /usr/bin/time ] && have_time=1
have_sqlite=0
command -v sqlite3 >/dev/null 2>&1 && have_sqlite=1

. "$here/timing.sh"

# Runs a command once under /usr/bin/time and prints "PEAK_RSS_KIB CPU_SECONDS" (user + sys),
# or "- -" without /usr/bin/time.
rss_cpu() {
  if [ $have_time = 0 ]; then
    echo "- -"
    return
  fi
  /usr/bin/time -f "%M %U %S" -o "$work/rss" "$@" >/dev/null
  tail -n 1 "$work/rss" | awk '{ printf "%d %.2f\n", $1, $2 + $3 }'
}

# A fresh git repository with an empty suite; prints its path.
new_repo() {
  local dir="$work/$1"
  mkdir -p "$dir"
  git -C "$dir" init -q
  git -C "$dir" config user.name "evalkeep bench"
  git -C "$dir" config user.email "bench@example.invalid"
  (cd "$dir" && "$evalkeep" -q init >/dev/null)
  echo "$dir"
}

echo "evalkeep bench: $("$evalkeep" --version), N=$n"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$evalkeep")/CMakeCache.txt" 2>/dev/null || true)
echo "binary: $evalkeep (CMAKE_BUILD_TYPE=${build_type:-unknown})"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1), $(uname -sr)"
echo "time: $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null)"

t0=$(now)
bash "$here/gen_suite.sh" "$n" "$work/suite.jsonl"
gen_us=$(us_since "$t0")
jsonl_bytes=$(stat -c %s "$work/suite.jsonl")
echo "generated $(wc -l <"$work/suite.jsonl") lines, $jsonl_bytes bytes in $(ms "$gen_us")"
echo

# (a) import, each run into a fresh suite. The file sits in the repository, as a user's would.
import_us=""
for ((r = 1; r <= import_runs; r++)); do
  repo=$(new_repo "import-$r")
  cp "$work/suite.jsonl" "$repo/suite.jsonl"
  t0=$(now)
  (cd "$repo" && "$evalkeep" -q import suite.jsonl >/dev/null)
  t=$(us_since "$t0")
  import_us=$(min "${import_us:-$t}" "$t")
  [ "$r" = 1 ] || rm -rf "$repo" # keep one imported suite for the other measures
done
repo="$work/import-1"
read -r import_rss import_cpu <<<"- -"
if [ $have_time = 1 ]; then
  rss_repo=$(new_repo import-rss)
  cp "$work/suite.jsonl" "$rss_repo/suite.jsonl"
  read -r import_rss import_cpu < <(cd "$rss_repo" && rss_cpu "$evalkeep" -q import suite.jsonl)
  rm -rf "$rss_repo"
fi

# The baselines read the suite through the sqlite3 shell; without it they fall back to cat.
sql_read() { sqlite3 "$repo/evals/suite.db" "SELECT * FROM cases ORDER BY id"; }
sql_load() {
  rm -f "$work/baseline.db"
  sqlite3 "$work/baseline.db" "CREATE TABLE lines(line TEXT)" ".mode ascii" \
    ".separator $(printf '\037') \"\\n\"" ".import '$work/suite.jsonl' lines"
}
cat_file() { cat "$work/suite.jsonl"; }
if [ $have_sqlite = 1 ]; then
  import_base_name="sqlite3 .import of the JSONL"
  read_base_name="sqlite3 SELECT * FROM cases"
  import_base_us=$(best_of "$import_runs" sql_load)
  read_base_us=$(best_of 3 sql_read)
else
  import_base_name="cat of the JSONL"
  read_base_name="cat of the JSONL"
  import_base_us=$(best_of 3 cat_file)
  read_base_us=$import_base_us
fi

# (b) list --json
list_us=$(cd "$repo" && best_of 3 "$evalkeep" list --json)
read -r list_rss list_cpu < <(cd "$repo" && rss_cpu "$evalkeep" list --json)

# (c) start-up: mean of 200 runs, against /bin/true run the same way. hyperfine, when installed,
# starts the processes itself (-N, no shell); otherwise a bash loop does, and its fork is in both.
runs=200
if command -v hyperfine >/dev/null 2>&1; then
  startup_method="hyperfine -N"
  hf_mean_us() {
    hyperfine -N --style none --warmup 10 --runs "$runs" --export-json "$work/hf.json" \
      "$1" >/dev/null 2>&1
    grep -m 1 -o '"mean": *[0-9.e+-]*' "$work/hf.json" | awk -F: '{ printf "%d\n", $2 * 1e6 }'
  }
  version_us=$(hf_mean_us "$evalkeep --version")
  true_us=$(hf_mean_us /bin/true)
else
  startup_method="bash loop, date +%s%N"
  for ((r = 0; r < 10; r++)); do "$evalkeep" --version >/dev/null; done
  t0=$(now)
  for ((r = 0; r < runs; r++)); do "$evalkeep" --version >/dev/null; done
  version_us=$(($(us_since "$t0") / runs))
  t0=$(now)
  for ((r = 0; r < runs; r++)); do /bin/true; done
  true_us=$(($(us_since "$t0") / runs))
fi

# (d) export
export_us=$(cd "$repo" && best_of 3 "$evalkeep" export -o "$work/export.jsonl")

# (e) size of the suite file against its export
db_bytes=$(stat -c %s "$repo/evals/suite.db")
export_bytes=$(stat -c %s "$work/export.jsonl")
leftovers=$(find "$repo/evals" -name 'suite.db-*' | wc -l)
if cmp -s "$work/suite.jsonl" "$work/export.jsonl"; then
  roundtrip="identical to the generated file"
else
  roundtrip="DIFFERS from the generated file"
fi

# The table: measure, value, baseline, ratio, target, result.
verdict() { # VALUE LIMIT OP -> PASS when VALUE OP LIMIT holds (OP is < or <=)
  if awk -v v="$1" -v l="$2" -v op="$3" 'BEGIN { exit !(op == "<" ? v < l : v <= l) }'; then
    echo PASS
  else
    echo FAIL
  fi
}
row() { printf '%-22s %14s  %-34s %12s %7s  %-14s %s\n' "$@"; }
size_ratio=$(awk -v a="$db_bytes" -v b="$export_bytes" 'BEGIN { printf "%.2f", a / b }')

r_import=$(verdict "$import_us" 3000000 "<")
r_list=$(verdict "$list_us" 1000000 "<")
r_version=$(verdict "$version_us" 5000 "<")
r_size=$(verdict "$size_ratio" 2 "<=")

row "measure" "value" "baseline (same run)" "baseline" "ratio" "target" "result"
row "import" "$(ms "$import_us")" "$import_base_name" "$(ms "$import_base_us")" \
  "$(ratio "$import_us" "$import_base_us")" "< 3 s" "$r_import"
row "list --json" "$(ms "$list_us")" "$read_base_name" "$(ms "$read_base_us")" \
  "$(ratio "$list_us" "$read_base_us")" "< 1 s" "$r_list"
row "--version (mean)" "$(ms "$version_us")" "/bin/true (mean of $runs)" "$(ms "$true_us")" \
  "$(ratio "$version_us" "$true_us")" "< 5 ms" "$r_version"
row "export" "$(ms "$export_us")" "$read_base_name" "$(ms "$read_base_us")" \
  "$(ratio "$export_us" "$read_base_us")" "-" "info"
row "suite.db / export" "${size_ratio}x" "$db_bytes / $export_bytes bytes" "" "" "<= 2x" "$r_size"
if [ $have_time = 1 ]; then
  row "import CPU (user+sys)" "$import_cpu s" "peak RSS $import_rss KiB" "" "" "-" "info"
  row "list CPU (user+sys)" "$list_cpu s" "peak RSS $list_rss KiB" "" "" "-" "info"
fi
echo
echo "--version: $startup_method; net of /bin/true $(ms $((version_us - true_us))) a run"
[ $have_time = 1 ] || echo "peak RSS and CPU time: /usr/bin/time is not installed (Debian package time)"
echo "export: $roundtrip; journal files left beside suite.db: $leftovers"
echo "import and its baseline: best of $import_runs; list, export and their baseline: best of 3"
if [ "$n" != 100000 ]; then
  echo "note: the targets are stated for N=100000; this run used N=$n"
fi
if [[ "$r_import $r_list $r_version $r_size" == *FAIL* ]]; then
  echo "FAIL: a target was missed" >&2
  exit 1
fi
echo "all targets met"
