// Passes when the answer names the test's topic (its singular) and the test belongs to support.
module.exports = (output, context) => {
  const { topic, team } = context.test.metadata;
  return output.toLowerCase().includes(topic.slice(0, -1)) && team === 'support';
};
