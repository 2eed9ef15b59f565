#!/usr/bin/env bash
# The demo: a support team's suite in a new git repository, the refusal to forget, and runs
# against stand-in model servers on 127.0.0.1. The repository stays afterwards, to explore.
# Usage: scripts/demo.sh PATH/TO/evalkeep   (evalkeep-standin is expected beside it, or named by
# EVALKEEP_STANDIN; EVALKEEP_DEMO_DIR names a new folder for the repository, else one is made in
# TMPDIR; EVALKEEP_DEMO_OUT a folder for the HTML pages, else the repository's .evalkeep/)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
standin=${EVALKEEP_STANDIN:-$(dirname "$bin")/evalkeep-standin}
if [ -n "${EVALKEEP_DEMO_DIR:-}" ]; then
  if [ -e "$EVALKEEP_DEMO_DIR" ] && [ -n "$(ls -A "$EVALKEEP_DEMO_DIR")" ]; then
    echo "demo: $EVALKEEP_DEMO_DIR is not empty; name a new folder" >&2
    exit 2
  fi
  mkdir -p "$EVALKEEP_DEMO_DIR"
  work=$(cd "$EVALKEEP_DEMO_DIR" && pwd)
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/evalkeep-demo-XXXXXX")
fi
out=${EVALKEEP_DEMO_OUT:-$work/.evalkeep}
ports=$(mktemp -d "${TMPDIR:-/tmp}/evalkeep-demo-ports-XXXXXX")
pids=()
# The stand-in servers stop with the demo; its repository stays.
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$ports"
}
trap cleanup EXIT

bold=""; plain=""
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  bold=$(tput bold 2>/dev/null || true); plain=$(tput sgr0 2>/dev/null || true)
fi
say() { printf '\n%s# %s%s\n' "$bold" "$*" "$plain"; }
# Each command is shown after the branch it runs on, as a shell prompt that knows git shows it.
branch() { git -C "$work" branch --show-current 2>/dev/null || true; }
step() { printf '\n%s(%s) $' "$bold" "$(branch)"; printf ' %q' "$@"; printf '%s\n' "$plain"; }
run() { step "$@"; "$@"; }
# Shows a command whose exit code is part of the story.
expect_exit() {
  local want=$1; shift
  step "$@"
  set +e; "$@"; local rc=$?; set -e
  echo "(exit code $rc)"
  [ "$rc" -eq "$want" ] || { echo "demo: expected exit code $want" >&2; exit 1; }
}
evalkeep() { "$bin" "$@"; }
# Starts a stand-in model server with the given flags and sets the variable named $1 to its port.
start_standin() {
  local var=$1 portfile="$ports/${#pids[@]}"; shift
  "$standin" --port 0 --port-file "$portfile" "$@" >/dev/null 2>&1 </dev/null &
  pids+=($!)
  for _ in $(seq 200); do [ -s "$portfile" ] && break; sleep 0.05; done
  printf -v "$var" '%s' "$(cat "$portfile")"
}

cd "$work"
printf '%sThe demo works in a new git repository at %s; it stays there afterwards.%s\n' \
  "$bold" "$work" "$plain"
git init -q -b main
git config user.name "Dana Kim"
git config user.email "dana@northwind.example"

say "A support team's suite: incidents, the cases that guard them, and past decisions."
run evalkeep init
run evalkeep import "$here/evals/example-suite.jsonl"
run evalkeep incident add INC-51 --title "Promised same-day delivery to a rural address" \
  --date 2026-11-20 --severity medium
run evalkeep add --id rural-delivery --prompt "Can you deliver my tent today? I live in Tromsø." \
  --expect 'not-contains:today' --expect 'icontains:delivery' --incident INC-51 --tag shipping
run evalkeep list --incident INC-51
run evalkeep list --status retired
git add -A && git commit -q -m "suite: example suite and INC-51"

say "Deleting a case is a decision, not cleanup."
expect_exit 1 evalkeep rm rural-delivery
expect_exit 19 sqlite3 evals/suite.db "DELETE FROM cases WHERE id = 'rural-delivery'"
run evalkeep retire rural-delivery --reason out-of-scope \
  --rationale "rural same-day delivery was dropped from the shop; INC-51 cannot recur" \
  --approved-by "Lee Okafor <lee@northwind.example>"
run evalkeep rm rural-delivery
run evalkeep show rural-delivery
run evalkeep log -n 3
run evalkeep verify
printf '\n%s(%s) $ git status --short%s   # one changed file: the suite, no -wal or -journal beside it\n' \
  "$bold" "$(branch)" "$plain"
git status --short
git commit -q -am "suite: retire rural-delivery (out-of-scope)"

say "Running: two stand-in model servers play today's model and a candidate."
start_standin today --rules "$here/tests/standin/example-rules.json" --latency-ms 40
start_standin candidate --latency-ms 40
sed -i 's/^suite = .*/&\njudge = "local"/' evalkeep.toml
cat >> evalkeep.toml <<TOML

[providers.local]
type = "openai"
base_url = "http://127.0.0.1:$today/v1"
model = "stand-in"

[providers.candidate]
type = "openai"
base_url = "http://127.0.0.1:$candidate/v1"
model = "stand-in-next"
TOML
run grep -E '^(judge|\[providers|type|base_url|model)' evalkeep.toml
git commit -q -am "evalkeep.toml: today's model and a candidate"
expect_exit 1 evalkeep run --provider local -j 16
say "The same run again replays every answer from the cache: no request is made."
expect_exit 1 evalkeep run --provider local -j 16
say "Before switching models: what would regress?"
step evalkeep run --provider candidate -j 16 --quiet \> /dev/null
set +e; evalkeep run --provider candidate -j 16 --quiet >/dev/null; set -e
run evalkeep runs list
run evalkeep runs diff 1 3

say "A pull request titled 'clean up stale eval cases', on branch cleanup, deletes four cases behind evalkeep's back."
run git checkout -q -b cleanup
stale="'currency-usd-to-eur','language-spanish-return','recall-owner-asks-what-to-do','tracking-delayed-international-no-eta'"
run sqlite3 evals/suite.db "DROP TRIGGER cases_delete_needs_decision; DELETE FROM cases WHERE id IN ($stale)"
git commit -q -am "clean up stale eval cases"
say "CI runs the gate on the pull request: it fails, naming each case and the incident it guarded."
expect_exit 1 evalkeep gate --base main

say "The same clean-up done as decisions, on branch cleanup-with-decisions: three cases retire, each saying why and who approved it."
git checkout -q main
run git checkout -q -b cleanup-with-decisions
for id in currency-usd-to-eur language-spanish-return; do
  run evalkeep retire "$id" --reason invalid-expectation \
    --rationale "the assistant no longer quotes prices or returns in other currencies and languages" \
    --approved-by "Lee Okafor <lee@northwind.example>"
done
run evalkeep retire recall-owner-asks-what-to-do --reason superseded \
  --superseded-by recall-refund-outside-window --rationale "the refund case covers the recall advice" \
  --approved-by "Lee Okafor <lee@northwind.example>"
git commit -q -am "retire three cases with decisions"
say "The fourth, tracking-delayed-international-no-eta, stays active: nobody could say why INC-14's customs case is no longer needed, so it keeps guarding INC-14."
run evalkeep list --incident INC-14
say "The gate passes, and shows the reviewer what the team gives up."
expect_exit 0 evalkeep gate --base main
say "Before a model migration, a reviewer audits what the suite has given up."
run evalkeep audit --since main
run evalkeep why recall-owner-asks-what-to-do

say "For people: the run as one HTML page (the candidate against today's model), and the audit."
mkdir -p "$out"
run evalkeep report 3 --vs 1 -o "$out/report.html"
run evalkeep audit --format html -o "$out/audit.html"
printf '\n%sOpen in a browser (no network needed):%s\n  file://%s\n  file://%s\n' "$bold" "$plain" \
  "$out/report.html" "$out/audit.html"

say "Agents: INC-30, the support agent refunded order A1 without checking the refund policy."
git checkout -q -b agent-incident
run evalkeep incident add INC-30 --title "Agent refunded an order without checking the policy"
cp "$here/examples/agent/tools.json" evals/agent-tools.json
run evalkeep add --id agent-refund-checks-policy --prompt "Please refund order A1." \
  --tools-file evals/agent-tools.json --expect no-tool-call:issue_refund \
  --expect tool-sequence:lookup_order,check_refund_policy --expect "icontains:30 days" \
  --expect max-steps:6 --incident INC-30
say "The agent (examples/agent/support_agent.py) runs through evalkeep's agent protocol; a stand-in plays its model."
start_standin agent_model --rules "$here/examples/agent/rules.json" --latency-ms 20
cat >> evalkeep.toml <<TOML

[providers.agent]
type = "exec"
output = "agent"
model = "support-agent"
command = ["python3", "$here/examples/agent/support_agent.py"]
TOML
export AGENT_BASE_URL="http://127.0.0.1:$agent_model/v1"
expect_exit 0 evalkeep run --provider agent --case agent-refund-checks-policy
run evalkeep report latest -o "$out/agent.html"
printf '%sIts trajectory, step by step:%s file://%s\n' "$bold" "$plain" "$out/agent.html"
git add -A && git commit -q -m "suite: guard INC-30 (the agent must check the refund policy)"

# How to call evalkeep from the repository: by name when PATH finds this one.
ek=evalkeep
[ "$(command -v evalkeep 2>/dev/null)" = "$bin" ] || ek=$bin
printf '\n%sThe repository stays at %s, on branch %s (also: main, cleanup, cleanup-with-decisions). Explore it:%s\n' \
  "$bold" "$work" "$(branch)" "$plain"
cat <<EOF
  cd $work
  git log --oneline --graph --all      # the story's branches and commits
  git log -p evals/suite.db            # the suite's history as text
  $ek audit --since main
  $ek why recall-owner-asks-what-to-do
  git checkout cleanup && $ek gate --base main   # the deleted cases, named
The stand-in model servers stopped with the demo: new runs need a provider of your own.
EOF
