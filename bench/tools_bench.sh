#!/usr/bin/env bash
# The CPU a case with tools costs next to a text case, measured in the same run.
#
#   bash bench/tools_bench.sh PATH/TO/evalkeep [N]        (N cases of each kind, default 2000)
#
# Two suites of N cases in fresh git repositories, run against the stand-in (0 ms latency) with
# `evalkeep -q run --provider local --no-cache -j 32`, taking turns, best of RUNS (default 3):
#   text   a prompt and two text assertions (icontains, max-length); the stand-in answers text
#   tools  the same prompt with three tool definitions (JSON Schema parameters) and five tool
#          assertions (tool-called, tool-args, tool-args-valid, no-tool-call:NAME,
#          max-tool-calls); the stand-in answers with a tool call
# CPU per case is user+sys of evalkeep (/usr/bin/time) over N; the ratio tools/text is the
# figure to quote (the machine is shared: absolute times wander, the ratio far less). Each run
# starts with an empty runs store; the stand-in must count exactly N requests after each.
# Needs bash, awk, git, coreutils and /usr/bin/time (Debian package `time`).
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 PATH/TO/evalkeep [N]" >&2
  exit 2
fi
n=${2:-2000}
[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] || { echo "$0: N must be a whole number >= 1" >&2; exit 2; }
[ -x "$1" ] && [ ! -d "$1" ] || { echo "$0: '$1' is not an executable; build it first" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "$0: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
evalkeep="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
standin="$(dirname "$evalkeep")/evalkeep-standin"
[ -x "$standin" ] || { echo "$0: no evalkeep-standin next to $evalkeep" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
runs=${RUNS:-3}

. "$here/timing.sh"
. "$here/harness.sh"
make_work evalkeep-toolsbench

tools='[{"type":"function","function":{"name":"lookup_order","description":"Find an order","parameters":{"type":"object","properties":{"order_id":{"type":"string","pattern":"^[A-Z][0-9]+$"}},"required":["order_id"],"additionalProperties":false}}},{"type":"function","function":{"name":"check_refund_policy","description":"Whether an order may be refunded","parameters":{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}}},{"type":"function","function":{"name":"issue_refund","description":"Refund an order","parameters":{"type":"object","properties":{"order_id":{"type":"string"},"amount":{"type":"number","minimum":0}},"required":["order_id"]}}}]'

# N cases of one kind, as JSONL.
gen() { # KIND OUT
  awk -v n="$n" -v kind="$1" -v tools="$tools" 'BEGIN {
    print "{\"type\":\"incident\",\"id\":\"INC-1\",\"title\":\"bench\"}"
    for (i = 1; i <= n; i++) {
      prompt = sprintf("%s order B%d? It was due on day %d and has not arrived.", kind == "text" ? "What about" : "Where is", i, i % 28 + 1)
      if (kind == "text")
        printf "{\"type\":\"case\",\"id\":\"c%06d\",\"prompt\":\"%s\",\"expect\":[{\"type\":\"icontains\",\"value\":\"order\"},{\"type\":\"max-length\",\"value\":400}],\"incident\":\"INC-1\"}\n", i, prompt
      else
        printf "{\"type\":\"case\",\"id\":\"c%06d\",\"prompt\":\"%s\",\"tools\":%s,\"expect\":[{\"type\":\"tool-called\",\"name\":\"lookup_order\"},{\"type\":\"tool-args\",\"name\":\"lookup_order\",\"args\":{\"order_id\":\"B7\"}},{\"type\":\"tool-args-valid\"},{\"type\":\"no-tool-call\",\"name\":\"issue_refund\"},{\"type\":\"max-tool-calls\",\"value\":2}],\"incident\":\"INC-1\"}\n", i, prompt, tools
    }
  }' >"$2"
}

echo "evalkeep tools bench: $("$evalkeep" --version), N=$n per kind, best of $runs"
echo "machine: $(nproc) cores, $(uname -sr), load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
cat >"$work/rules.json" <<'JSON'
{"default": {"answer": "Your order is on its way and should arrive in two days."},
 "rules": [{"match": "where is order", "tool_calls": [{"name": "lookup_order", "arguments": {"order_id": "B7"}}]}]}
JSON
for kind in text tools; do
  init_repo "$work/$kind"
  gen "$kind" "$work/$kind.jsonl"
  (cd "$work/$kind" && "$evalkeep" -q import "$work/$kind.jsonl" >/dev/null)
  cp "$work/$kind/evalkeep.toml" "$work/$kind.toml"
done
# The text suite's stand-in answers text (no rule matches its default); the tool suite's calls.
start_standin 0 --rules "$work/rules.json"

best_text="" best_tools=""
for ((r = 0; r < runs; r++)); do
  for kind in text tools; do
    {
      cat "$work/$kind.toml"
      printf '\n[providers.local]\ntype = "openai"\nbase_url = "http://127.0.0.1:%s/v1"\nmodel = "stand-in"\n' "$port"
    } >"$work/$kind/evalkeep.toml"
    rm -f "$work/$kind/.evalkeep/runs.db"
    standin_http POST /__reset >/dev/null
    timed "$work/$kind.out" env -C "$work/$kind" -u OPENAI_API_KEY \
      "$evalkeep" -q run --provider local --no-cache -j 32
    [ "$rc" -le 1 ] || { cat "$work/$kind.out.err" >&2; echo "$0: $kind run exited $rc" >&2; exit 3; }
    got=$(standin_http GET /__stats | grep -o '"requests":[0-9]*' | head -n 1 | cut -d : -f 2)
    [ "$got" = "$n" ] || { echo "$0: $kind: the stand-in counted $got requests, not $n" >&2; exit 3; }
    us=$(awk -v c="$cpu_s" -v n="$n" 'BEGIN { printf "%d", c * 1e6 / n }')
    if [ "$kind" = text ]; then best_text=$(min "$best_text" "$us"); else best_tools=$(min "$best_tools" "$us"); fi
  done
done
# The tool suite's run must pass every case: its assertions were all evaluated, not skipped.
(cd "$work/tools" && "$evalkeep" runs show --json) >"$work/tools-run.json"
grep -q "\"passed\": $n," "$work/tools-run.json" ||
  { echo "$0: the tool suite did not pass every case" >&2; exit 3; }

printf '\n%-28s %12s\n' "" "CPU per case"
printf '%-28s %9d us\n' "text case (2 assertions)" "$best_text"
printf '%-28s %9d us\n' "tool-call case (5 assertions)" "$best_tools"
printf '%-28s %12s\n' "ratio tool/text" "$(awk -v a="$best_tools" -v b="$best_text" 'BEGIN { printf "%.2fx", a / b }')"
