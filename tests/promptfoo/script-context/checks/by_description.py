# Passes when the test's description and the answer are both about refunds.
def get_assert(output, context):
    description = context['test']['description']
    ok = 'refund' in description.lower() and 'Refunds' in output
    return {'pass': ok, 'score': 1 if ok else 0, 'reason': 'about refunds: ' + description}
