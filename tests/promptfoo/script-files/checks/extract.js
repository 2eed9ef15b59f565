// The JSON object inside the answer.
module.exports = (output) => output.slice(output.indexOf('{'), output.lastIndexOf('}') + 1);
