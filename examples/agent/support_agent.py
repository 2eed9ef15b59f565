#!/usr/bin/env python3
"""A small support agent for evalkeep's exec provider, with the standard library only.

evalkeep runs it once per trial (`output = "agent"` in its [providers.NAME] table). It reads the
case's input on stdin: {"messages": [...], "tools": [...], "tool_choice": ..., "model": ...}.
It asks an OpenAI-compatible Chat Completions endpoint (AGENT_BASE_URL, default the stand-in on
http://127.0.0.1:8089/v1), runs each tool the model calls against a tiny in-memory shop, hands the
results back, and stops when the model answers in text or after MAX_STEPS model calls. On stdout
it writes the agent protocol's JSON: the final answer and every step it took.

    python3 examples/agent/support_agent.py < input.json
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

MAX_STEPS = 8

ORDERS = {
    "A1": {"order_id": "A1", "status": "delivered", "delivered_days_ago": 60, "total": 120.0},
    "B2": {"order_id": "B2", "status": "in transit", "carrier": "DHL", "total": 35.5},
}
POLICY = "Refunds are accepted within 30 days of delivery."


def lookup_order(order_id=""):
    return ORDERS.get(order_id, {"error": "no order " + order_id})


def check_refund_policy(order_id=""):
    order = ORDERS.get(order_id)
    if not order:
        return {"error": "no order " + order_id}
    days = order.get("delivered_days_ago")
    eligible = days is not None and days <= 30
    return {"order_id": order_id, "eligible": eligible, "policy": POLICY}


def issue_refund(order_id="", **_):
    return {"order_id": order_id, "status": "refunded"}


TOOLS = {"lookup_order": lookup_order, "check_refund_policy": check_refund_policy,
         "issue_refund": issue_refund}


def chat(base_url, body, api_key):
    """One Chat Completions call: the parsed reply and the milliseconds it took."""
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = "Bearer " + api_key
    req = urllib.request.Request(base_url.rstrip("/") + "/chat/completions",
                                 data=json.dumps(body).encode(), headers=headers, method="POST")
    started = time.monotonic()
    with urllib.request.urlopen(req, timeout=60) as resp:
        reply = json.load(resp)
    return reply, (time.monotonic() - started) * 1000


def run_tool(call):
    """Runs one call; its result as text, or an error."""
    fn = TOOLS.get(call["name"])
    try:
        args = json.loads(call["arguments"] or "{}")
    except json.JSONDecodeError as e:
        return None, "arguments are not JSON: %s" % e
    if fn is None:
        return None, "no tool named %s" % call["name"]
    if not isinstance(args, dict):
        return None, "arguments must be a JSON object"
    return json.dumps(fn(**args)), None


def as_wire(messages):
    """The case's messages in Chat Completions' shape (its calls carry JSON text)."""
    out = []
    for m in messages:
        wire = {"role": m["role"], "content": m.get("content", "")}
        if m.get("tool_calls"):
            wire["tool_calls"] = [{"id": c["id"], "type": "function",
                                   "function": {"name": c["name"],
                                                "arguments": json.dumps(c["arguments"])
                                                if not isinstance(c["arguments"], str)
                                                else c["arguments"]}}
                                  for c in m["tool_calls"]]
        if m.get("tool_call_id"):
            wire["tool_call_id"] = m["tool_call_id"]
        out.append(wire)
    return out


def main():
    task = json.load(sys.stdin)
    base_url = os.environ.get("AGENT_BASE_URL", "http://127.0.0.1:8089/v1")
    api_key = os.environ.get("AGENT_API_KEY", "")
    messages = as_wire(task["messages"])
    steps = []
    answer = ""
    for _ in range(MAX_STEPS):
        body = {"model": task.get("model") or "stand-in", "messages": messages,
                "temperature": task.get("temperature") or 0}
        if task.get("tools"):
            body["tools"] = task["tools"]
            if task.get("tool_choice"):
                body["tool_choice"] = task["tool_choice"]
        try:
            reply, ms = chat(base_url, body, api_key)
        except (urllib.error.URLError, OSError, ValueError) as e:
            print("the model call failed: %s" % e, file=sys.stderr)
            return 1
        msg = reply["choices"][0]["message"]
        usage = reply.get("usage") or {}
        calls = [{"id": c["id"], "name": c["function"]["name"],
                  "arguments": c["function"]["arguments"]} for c in msg.get("tool_calls") or []]
        step = {"type": "model", "model": reply.get("model", ""), "text": msg.get("content") or "",
                "latency_ms": round(ms, 3), "tokens_in": usage.get("prompt_tokens", 0),
                "tokens_out": usage.get("completion_tokens", 0)}
        if calls:
            step["tool_calls"] = calls
        steps.append(step)
        if not calls:
            answer = msg.get("content") or ""
            break
        messages.append({"role": "assistant", "content": msg.get("content"),
                         "tool_calls": msg["tool_calls"]})
        for call in calls:
            started = time.monotonic()
            result, error = run_tool(call)
            tool_step = {"type": "tool", "id": call["id"], "name": call["name"],
                         "arguments": call["arguments"],
                         "latency_ms": round((time.monotonic() - started) * 1000, 3)}
            if error:
                tool_step["error"] = error
                result = json.dumps({"error": error})
            tool_step["result"] = result
            steps.append(tool_step)
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": result})
    else:
        answer = "(stopped after %d model calls)" % MAX_STEPS
    json.dump({"answer": answer, "steps": steps}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
