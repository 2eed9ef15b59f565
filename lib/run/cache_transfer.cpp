#include "run/cache_transfer.hpp"

#include <fstream>

#include <nlohmann/json.hpp>

namespace evalkeep::run {

using json = nlohmann::json;

Result<std::size_t> export_cache(RunsStore& store, const std::string& file) {
  std::ofstream out(file, std::ios::binary);
  if (!out)
    return fail(ExitCode::environment, "cannot write '{}'", file);
  auto q = store.db().prepare("SELECT key, answer, served_model, fingerprint, tokens_in, "
                              "tokens_out, latency_ms, created_at FROM cache ORDER BY key");
  if (!q)
    return std::unexpected(q.error());
  std::size_t n = 0;
  for (;;) {
    auto row = q->step();
    if (!row)
      return std::unexpected(row.error());
    if (!*row)
      break;
    core::Digest key{};
    auto k = q->blob(0);
    std::copy_n(k.begin(), std::min(k.size(), key.size()), key.begin());
    json j{{"key", core::to_hex(key)}, {"answer", q->str(1)}};
    j["served_model"] = q->is_null(2) ? json() : json(q->str(2));
    j["fingerprint"] = q->is_null(3) ? json() : json(q->str(3));
    j["tokens_in"] = q->is_null(4) ? json() : json(q->integer(4));
    j["tokens_out"] = q->is_null(5) ? json() : json(q->integer(5));
    j["latency_ms"] = q->real(6);
    j["created_at"] = q->str(7);
    out << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
    ++n;
  }
  if (!out.flush())
    return fail(ExitCode::environment, "cannot write '{}'", file);
  return n;
}

Result<std::size_t> import_cache(RunsStore& store, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return invalid("cannot read '{}'", file);
  auto tx = store::Transaction::begin(store.db());
  if (!tx)
    return std::unexpected(tx.error());
  auto put = store.db().prepare("INSERT OR IGNORE INTO cache (key, answer, served_model, "
                                "fingerprint, tokens_in, tokens_out, latency_ms, created_at) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!put)
    return std::unexpected(put.error());
  std::size_t line_no = 0, added = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty())
      continue;
    try {
      json j = json::parse(line);
      core::Digest key{};
      if (!core::from_hex(j.at("key").get<std::string>(), key))
        return invalid("{}:{}: field \"key\": not a SHA-256 hex digest", file, line_no);
      auto opt_str = [&](const char* k) -> std::optional<std::string> {
        return j.contains(k) && j[k].is_string() ? std::optional(j[k].get<std::string>())
                                                 : std::nullopt;
      };
      auto opt_int = [&](const char* k) -> std::optional<std::int64_t> {
        return j.contains(k) && j[k].is_number_integer() ? std::optional(j[k].get<std::int64_t>())
                                                         : std::nullopt;
      };
      put->bind_all(std::span<const std::uint8_t>(key), j.at("answer").get<std::string>(),
                    opt_str("served_model"), opt_str("fingerprint"), opt_int("tokens_in"),
                    opt_int("tokens_out"), j.value("latency_ms", 0.0),
                    j.value("created_at", std::string("1970-01-01T00:00:00Z")));
    } catch (const json::exception& e) {
      return invalid("{}:{}: {}", file, line_no, e.what());
    }
    if (auto r = put->run(); !r)
      return std::unexpected(r.error());
    auto changes = store.db().scalar("SELECT changes()");
    if (changes && *changes > 0)
      ++added;
  }
  if (auto r = tx->commit(); !r)
    return std::unexpected(r.error());
  return added;
}

} // namespace evalkeep::run
