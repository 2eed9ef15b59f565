import re


def get_assert(output, context):
    days = context["vars"]["days"]
    return f"{days} days" in output and "refund" in context["prompt"].lower()


def word_score(output, context):
    words = len(output.split())
    return {"pass": words < 20, "score": min(1.0, 10 / words), "reason": f"{words} words"}


def starts_with_brace(output, context):
    return bool(re.match(r"\s*\{", output))
