#!/usr/bin/env bash
# The demo: a support team's suite in a fresh git repository, and the refusal to forget.
# Usage: scripts/demo.sh PATH/TO/evalkeep
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d "${TMPDIR:-/tmp}/evalkeep-demo-XXXXXX")
trap 'rm -rf "$work"' EXIT

bold=$(tput bold 2>/dev/null || true); plain=$(tput sgr0 2>/dev/null || true)
step() { printf '\n%s$' "$bold"; printf ' %q' "$@"; printf '%s\n' "$plain"; }
run() { step "$@"; "$@"; }
# Shows a command that is meant to be refused, and its exit code.
refused() {
  step "$@"
  set +e; "$@"; local rc=$?; set -e
  echo "(exit code $rc)"
  [ "$rc" -ne 0 ] || { echo "demo: expected a refusal" >&2; exit 1; }
}
evalkeep() { "$bin" "$@"; }

cd "$work"
git init -q -b main
git config user.name "Dana Kim"
git config user.email "dana@northwind.example"

run evalkeep init
run evalkeep import "$here/evals/example-suite.jsonl"
run evalkeep incident add INC-51 --title "Promised same-day delivery to a rural address" \
  --date 2026-11-20 --severity medium
run evalkeep add --id rural-delivery --prompt "Can you deliver my tent today? I live in Tromsø." \
  --expect 'not-contains:today' --expect 'icontains:delivery' --incident INC-51 --tag shipping
run evalkeep list --incident INC-51
run evalkeep list --status retired
git add -A && git commit -q -m "suite: example suite and INC-51"

refused evalkeep rm rural-delivery
refused sqlite3 evals/suite.db "DELETE FROM cases WHERE id = 'rural-delivery'"
run evalkeep retire rural-delivery --reason out-of-scope \
  --rationale "rural same-day delivery was dropped from the shop; INC-51 cannot recur" \
  --approved-by "Lee Okafor <lee@northwind.example>"
run evalkeep rm rural-delivery
run evalkeep show rural-delivery
run evalkeep log -n 3
run evalkeep verify
printf '\n%s$ git status --short%s   # one changed file: the suite, no -wal or -journal beside it\n' "$bold" "$plain"
git status --short
