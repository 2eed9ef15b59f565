#!/usr/bin/env bash
# Benchmarks the suite in git against the targets in docs/PERFORMANCE.md.
#
#   bash bench/git_bench.sh PATH/TO/evalkeep [N] [CHANGED]     (defaults: 100000 cases, 1000)
#
# In a temporary git repository, main holds a suite of N cases (bench/gen_suite.sh, imported and
# committed). The branch `change` then changes CHANGED of them: it adds CHANGED/2 new cases (one
# import), edits CHANGED/4 and retires CHANGED/4 (one evalkeep command each). Meanwhile main gains
# a case of its own, so the merge is a real three-way one. Times, best of 3:
#   gate          `evalkeep gate --base main` on the branch
#   dump          `evalkeep dump > /dev/null` of the branch's suite
#   merge-driver  `evalkeep merge-driver BASE OURS THEIRS` with main as ours and the branch as
#                 theirs (the bigger side to bring in), on a fresh copy of ours each time
#                 (the copy is timed too)
# each with its ratio to a baseline timed in the same run: the sqlite3 shell reading every row
# of the branch's cases table. Prints a table and exits 1 if a target is missed (targets are
# stated for N=100000, CHANGED=1000). KEEP=1 keeps the temporary directory.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 3 ]; then
  echo "usage: $0 PATH/TO/evalkeep [N] [CHANGED]" >&2
  exit 2
fi
n=${2:-100000}
changed=${3:-1000}
for v in "$n" "$changed"; do
  if ! [[ $v =~ ^[0-9]+$ ]] || [ "$v" -lt 4 ]; then
    echo "$0: N and CHANGED must be whole numbers of at least 4, got '$v'" >&2
    exit 2
  fi
done
if [ "$changed" -gt "$n" ]; then
  echo "$0: CHANGED ($changed) cannot exceed N ($n)" >&2
  exit 2
fi
if [ ! -x "$1" ] || [ -d "$1" ]; then
  echo "$0: '$1' is not an executable; build it first (make build)" >&2
  exit 2
fi
evalkeep="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

work="$(mktemp -d "${TMPDIR:-/tmp}/evalkeep-git-bench.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then
  echo "keeping $work" >&2
else
  trap 'rm -rf "$work"' EXIT
fi

. "$here/timing.sh"

echo "evalkeep git bench: $("$evalkeep" --version), N=$n, CHANGED=$changed"
echo "machine: $(nproc) cores, $(uname -sr), load average $(cut -d ' ' -f 1-3 /proc/loadavg)"

repo="$work/repo"
mkdir -p "$repo"
cd "$repo"
git init -q -b main
git config user.name "evalkeep bench"
git config user.email "bench@example.invalid"
"$evalkeep" -q init >/dev/null
bash "$here/gen_suite.sh" "$n" "$work/suite.jsonl"
t0=$(now)
"$evalkeep" -q import "$work/suite.jsonl" >/dev/null
git add -A
git commit -q -m "suite of $n cases"
echo "main: $n cases imported and committed in $(ms "$(us_since "$t0")")"

t0=$(now)
git checkout -q -b change
adds=$((changed / 2))
edits=$((changed / 4))
retires=$((changed - adds - edits))
awk -v k="$adds" 'BEGIN { for (i = 1; i <= k; i++)
  printf "{\"type\":\"case\",\"id\":\"new-%06d\",\"prompt\":\"New question %d?\",\"expect\":[{\"type\":\"contains\",\"value\":\"answer %d\"}],\"provenance\":{\"kind\":\"spec\",\"note\":\"bench\"}}\n", i, i, i }' \
  >"$work/new.jsonl"
"$evalkeep" -q import "$work/new.jsonl" >/dev/null
# Edits and retirements spread over the suite: every (N / CHANGED)th case.
step=$((n / changed))
for ((i = 0; i < edits + retires; i++)); do
  id=$(printf "case-%06d" $((1 + i * step)))
  if [ "$i" -lt "$edits" ]; then
    "$evalkeep" -q edit "$id" --prompt "Reworded question $i?" --reason reworded --rationale "bench edit" \
      >/dev/null
  else
    "$evalkeep" -q retire "$id" --reason duplicate --rationale "bench retirement" >/dev/null
  fi
done
git commit -q -am "change $changed cases"
echo "change: $adds added, $edits edited, $retires retired in $(ms "$(us_since "$t0")")"

git checkout -q main
"$evalkeep" -q add --id main-only --prompt "Only on main?" --expect contains:main \
  --provenance "spec:bench" >/dev/null
git commit -q -am "main moves on"
git show "main~1:evals/suite.db" >"$work/base.db"
git show "main:evals/suite.db" >"$work/ours.db"
git show "change:evals/suite.db" >"$work/theirs.db"
git checkout -q change

# The checks, before the clock: each must do what is measured.
if "$evalkeep" gate --base main >"$work/gate.txt"; then
  echo "gate passed as expected"
else
  echo "gate failed on a branch that retired with decisions:" >&2
  head -n 20 "$work/gate.txt" >&2
  exit 1
fi
cp "$work/ours.db" "$work/merged.db"
"$evalkeep" merge-driver "$work/base.db" "$work/merged.db" "$work/theirs.db" 2>"$work/merge.txt"
cat "$work/merge.txt"

gate_us=$(best_of 3 "$evalkeep" gate --base main)
dump_us=$(best_of 3 "$evalkeep" dump)
merge_once() {
  cp "$work/ours.db" "$work/merged.db"
  "$evalkeep" merge-driver "$work/base.db" "$work/merged.db" "$work/theirs.db" 2>/dev/null
}
merge_us=$(best_of 3 merge_once) # includes copying ours into place, as git does
base_us=$(best_of 3 sqlite3 evals/suite.db "SELECT * FROM cases")

echo
printf "%-14s %10s %8s %14s\n" measure time target "vs sqlite3 read"
printf "%-14s %10s %8s %14s\n" gate "$(ms "$gate_us")" "< 2 s" "$(ratio "$gate_us" "$base_us")"
printf "%-14s %10s %8s %14s\n" dump "$(ms "$dump_us")" "< 2 s" "$(ratio "$dump_us" "$base_us")"
printf "%-14s %10s %8s %14s\n" merge-driver "$(ms "$merge_us")" "< 3 s" "$(ratio "$merge_us" "$base_us")"
printf "%-14s %10s\n" "sqlite3 read" "$(ms "$base_us")"

status=0
if [ "$n" = 100000 ] && [ "$changed" = 1000 ]; then
  [ "$gate_us" -lt 2000000 ] || { echo "gate misses its target" >&2; status=1; }
  [ "$dump_us" -lt 2000000 ] || { echo "dump misses its target" >&2; status=1; }
  [ "$merge_us" -lt 3000000 ] || { echo "merge-driver misses its target" >&2; status=1; }
fi
exit $status
