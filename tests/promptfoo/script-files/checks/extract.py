import json


def order_id(output, context):
    return str(json.loads(output)["id"])
