function mentionsDays(output) {
  return /\bdays\b/.test(output) ? 1 : 0;
}

module.exports = { mentionsDays };
