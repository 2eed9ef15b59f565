// The answer names the refund window the test's vars give, and the prompt asked about refunds.
module.exports = (output, context) => {
  const days = context.test.vars.days;
  if (!context.prompt.toLowerCase().includes('refund')) {
    return { pass: false, score: 0, reason: 'the prompt is not about refunds' };
  }
  return output.includes(`${days} days`);
};
