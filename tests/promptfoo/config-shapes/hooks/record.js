module.exports.afterAll = async () => {};
