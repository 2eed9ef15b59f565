#include "run/cache_transfer.hpp"

#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

namespace evalkeep::run {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// One line of an export: its key and answer. A malformed line is an error naming FILE:LINE.
Result<std::pair<core::Digest, CachedAnswer>>
parse_line(const std::string& line, const std::string& file, std::size_t line_no) {
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
    CachedAnswer c;
    c.answer = j.at("answer").get<std::string>();
    c.served_model = opt_str("served_model");
    c.fingerprint = opt_str("fingerprint");
    c.tokens_in = opt_int("tokens_in");
    c.tokens_out = opt_int("tokens_out");
    c.tokens_cached = opt_int("tokens_cached");
    c.tokens_cache_write = opt_int("tokens_cache_write");
    c.latency_ms = j.value("latency_ms", 0.0);
    if (j.contains("tool_calls")) {
      const auto& calls = j["tool_calls"];
      if (!calls.is_array())
        return invalid("{}:{}: field \"tool_calls\": must be an array of tool calls", file,
                       line_no);
      for (std::size_t i = 0; i < calls.size(); ++i) {
        auto call = core::tool_call_from_json(calls[i], fmt::format("tool_calls[{}]", i));
        if (!call)
          return invalid("{}:{}: {}", file, line_no, call.error().message);
        c.tool_calls.push_back(std::move(*call));
      }
    }
    if (j.contains("steps")) {
      if (!j["steps"].is_array())
        return invalid("{}:{}: field \"steps\": must be an array of steps", file, line_no);
      c.steps = j["steps"].dump(-1, ' ', false, json::error_handler_t::replace);
    }
    return std::pair{key, std::move(c)};
  } catch (const json::exception& e) {
    return invalid("{}:{}: {}", file, line_no, e.what());
  }
}

std::string created_at(const std::string& line) {
  auto j = json::parse(line, nullptr, false);
  if (j.is_object() && j.contains("created_at") && j["created_at"].is_string())
    return j["created_at"].get<std::string>();
  return "1970-01-01T00:00:00Z";
}

bool is_sqlite(const fs::path& path) {
  char header[16] = {};
  std::ifstream in(path, std::ios::binary);
  in.read(header, sizeof header);
  return in && std::memcmp(header, "SQLite format 3", 16) == 0;
}

} // namespace

Result<CacheExport> export_cache(RunsStore& store, const std::string& file) {
  std::ofstream out(file, std::ios::binary);
  if (!out)
    return fail(ExitCode::environment, "cannot write '{}'", file);
  CacheExport n;
  n.left_out = static_cast<std::size_t>(
      TRY(store.db().scalar("SELECT count(*) FROM cache WHERE origin IS NOT NULL AND "
                            "NOT coalesce(trusted, 0)")));
  TRY(store::each_row(
      store.db(),
      "SELECT key, answer, served_model, fingerprint, tokens_in, tokens_out, latency_ms, "
      "created_at, tool_calls, steps, tokens_cached, tokens_cache_write FROM cache WHERE origin IS "
      "NULL OR trusted ORDER BY key",
      [&](const store::Statement& q) {
        core::Digest key{};
        auto k = q.blob(0);
        std::copy_n(k.begin(), std::min(k.size(), key.size()), key.begin());
        json j{{"key", core::to_hex(key)}, {"answer", q.str(1)}};
        j["served_model"] = q.is_null(2) ? json() : json(q.str(2));
        j["fingerprint"] = q.is_null(3) ? json() : json(q.str(3));
        j["tokens_in"] = q.is_null(4) ? json() : json(q.integer(4));
        j["tokens_out"] = q.is_null(5) ? json() : json(q.integer(5));
        j["latency_ms"] = q.real(6);
        j["created_at"] = q.str(7);
        if (!q.is_null(8)) // only when there are calls: a file of text answers reads as before
          j["tool_calls"] = json::parse(q.text(8), nullptr, false);
        if (!q.is_null(9))
          j["steps"] = json::parse(q.text(9), nullptr, false);
        if (!q.is_null(10)) // only when reported, likewise
          j["tokens_cached"] = q.integer(10);
        if (!q.is_null(11))
          j["tokens_cache_write"] = q.integer(11);
        out << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
        ++n.written;
      }));
  if (!out.flush())
    return fail(ExitCode::environment, "cannot write '{}'", file);
  return n;
}

Result<std::size_t> import_cache(RunsStore& store, const std::string& file, bool trusted) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return invalid("cannot read '{}'", file);
  auto tx = TRY(store::Transaction::begin(store.db()));
  // A trusted import replaces an answer brought in untrusted; nothing replaces one made here.
  auto put = TRY(store.db().prepare(
      "INSERT INTO cache (key, answer, served_model, fingerprint, tokens_in, tokens_out, "
      "latency_ms, created_at, origin, origin_run, origin_source, trusted, tool_calls, steps, "
      "tokens_cached, tokens_cache_write) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'imported', "
      "NULL, ?9, ?10, ?11, ?12, ?13, ?14) "
      "ON CONFLICT (key) DO UPDATE SET answer = excluded.answer, tool_calls = "
      "excluded.tool_calls, steps = excluded.steps, served_model = "
      "excluded.served_model, fingerprint = excluded.fingerprint, tokens_in = excluded.tokens_in, "
      "tokens_out = excluded.tokens_out, tokens_cached = excluded.tokens_cached, "
      "tokens_cache_write = excluded.tokens_cache_write, latency_ms = excluded.latency_ms, "
      "created_at = excluded.created_at, origin = 'imported', origin_run = NULL, origin_source = "
      "excluded.origin_source, trusted = 1 "
      "WHERE excluded.trusted AND cache.origin IS NOT NULL AND NOT coalesce(cache.trusted, 0)"));
  std::size_t line_no = 0, added = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty())
      continue;
    auto [key, c] = TRY(parse_line(line, file, line_no));
    put.bind_all(std::span<const std::uint8_t>(key), c.answer, c.served_model, c.fingerprint,
                 c.tokens_in, c.tokens_out, c.latency_ms, created_at(line), file,
                 std::int64_t{trusted ? 1 : 0},
                 c.tool_calls.empty() ? std::optional<std::string>()
                                      : std::optional(core::tool_calls_text(c.tool_calls)),
                 c.steps.empty() ? std::optional<std::string>() : std::optional(c.steps),
                 c.tokens_cached, c.tokens_cache_write);
    TRY(put.run());
    if (TRY(store.db().scalar("SELECT changes()")) > 0)
      ++added;
  }
  TRY(tx.commit());
  return added;
}

Result<TrustedCache> TrustedCache::open(const fs::path& path) {
  TrustedCache cache(path);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return invalid("cannot read the cache file '{}'", path.string());
  if (is_sqlite(path)) {
    auto db = store::Database::open(path, store::OpenMode::read_only);
    if (!db)
      return with_context(db.error(), fmt::format("cache file '{}'", path.string()));
    auto app = TRY(db->scalar("PRAGMA application_id"));
    if (static_cast<std::uint32_t>(app) != k_runs_application_id)
      return invalid("cache file '{}' is neither a runs store nor a cache export", path.string());
    cache.m_db.emplace(std::move(*db));
    // A store from before tool calls, or cached tokens, were kept (read as it is) has no such
    // columns.
    auto has = [&](const char* column) -> Result<bool> {
      return TRY(cache.m_db->scalar(fmt::format(
                 "SELECT count(*) FROM pragma_table_xinfo('cache') WHERE name = '{}'", column))) >
             0;
    };
    bool calls = TRY(has("tool_calls")), cached_tokens = TRY(has("tokens_cached"));
    auto get = cache.m_db->prepare(fmt::format(
        "SELECT answer, served_model, fingerprint, tokens_in, tokens_out, latency_ms, {}, {} FROM "
        "cache WHERE key = ?",
        calls ? "tool_calls, steps" : "NULL, NULL",
        cached_tokens ? "tokens_cached, tokens_cache_write" : "NULL, NULL"));
    if (!get)
      return with_context(get.error(), fmt::format("cache file '{}'", path.string()));
    cache.m_get.emplace(std::move(*get));
    return cache;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return invalid("cannot read the cache file '{}'", path.string());
  std::size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty())
      continue;
    auto [key, c] = TRY(parse_line(line, path.string(), line_no));
    c.provenance = {Origin::trusted, 0, path.string()};
    cache.m_answers.emplace(key, std::move(c));
  }
  return cache;
}

Result<std::optional<CachedAnswer>> TrustedCache::get(const core::Digest& key) {
  if (!m_get) {
    auto it = m_answers.find(key);
    return it == m_answers.end() ? std::optional<CachedAnswer>() : std::optional(it->second);
  }
  store::Statement& stmt = *m_get;
  stmt.bind(1, std::span<const std::uint8_t>(key));
  auto row = stmt.step();
  if (!row || !*row) {
    stmt.reset();
    if (!row)
      return std::unexpected(row.error());
    return std::optional<CachedAnswer>();
  }
  CachedAnswer c = cached_answer_of(stmt);
  c.provenance = {Origin::trusted, 0, m_path.string()};
  stmt.reset();
  return std::optional(std::move(c));
}

} // namespace evalkeep::run
