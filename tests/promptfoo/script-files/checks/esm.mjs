export function isShipped(output) {
  return { pass: JSON.parse(output).status === 'shipped', score: 1, reason: 'status read' };
}
