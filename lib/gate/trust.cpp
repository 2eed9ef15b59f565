#include "gate/trust.hpp"

#include "core/hash.hpp"
#include "git/repo.hpp"

#include <set>
#include <unistd.h>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace evalkeep::gate {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* k_none = "(none)";

// `path` relative to `top` in git's form, or nothing when it is not inside it.
std::optional<std::string> inside(const fs::path& top, const fs::path& path) {
  auto rel = path.lexically_normal().lexically_relative(top.lexically_normal());
  auto text = rel.generic_string();
  if (rel.empty() || text == "." || text.starts_with("../") || text == ".." || rel.is_absolute())
    return std::nullopt;
  return text;
}

std::string text_of(const json& v) {
  if (v.is_null())
    return k_none;
  if (v.is_string())
    return v.get<std::string>();
  if (v.is_array()) {
    std::vector<std::string> parts;
    for (const auto& p : v)
      parts.push_back(p.is_string() ? p.get<std::string>() : p.dump());
    return fmt::format("{}", fmt::join(parts, " "));
  }
  return v.dump();
}

// A header's value may be a credential written into the config: shown only as a short digest.
std::string header_value(const std::string& value) {
  return "sha256:" + core::to_hex(core::sha256(value)).substr(0, 12);
}

// The settings of a provider that a review should see change, as (field, text) in a fixed order:
// what decides its answers, where its key goes, and how it is called.
std::vector<std::pair<std::string, std::string>> settings(const providers::ProviderConfig& p) {
  auto opt = [](const auto& v) { return v ? json(*v).dump() : std::string(k_none); };
  std::vector<std::pair<std::string, std::string>> out;
  auto params = providers::answer_params(p);
  for (const auto& [key, value] : params.items())
    out.emplace_back(key, text_of(value));
  out.emplace_back("api_key_env", p.api_key_env.empty() ? k_none : p.api_key_env);
  out.emplace_back("anthropic_version", p.anthropic_version);
  out.emplace_back("idempotency_header", p.idempotency_header ? "true" : "false");
  out.emplace_back("max_concurrency", std::to_string(p.max_concurrency));
  out.emplace_back("max_attempts", std::to_string(p.max_attempts));
  out.emplace_back("connect_timeout_s", json(p.connect_timeout_s).dump());
  out.emplace_back("timeout_s", json(p.timeout_s).dump());
  out.emplace_back("max_retry_wait_s", json(p.max_retry_wait_s).dump());
  out.emplace_back("input_price_per_mtok", opt(p.input_price_per_mtok));
  out.emplace_back("output_price_per_mtok", opt(p.output_price_per_mtok));
  out.emplace_back("cached_input_price_per_mtok", opt(p.cached_input_price_per_mtok));
  out.emplace_back("cache_write_price_per_mtok", opt(p.cache_write_price_per_mtok));
  out.emplace_back("batch_price_factor", json(p.batch_price_factor).dump());
  for (const auto& [name, value] : p.headers)
    out.emplace_back("headers." + name, header_value(value));
  if (!p.pass_env.empty())
    out.emplace_back("pass_env", fmt::format("{}", fmt::join(p.pass_env, " ")));
  return out;
}

// The differences between two lists of (field, text), a field missing on one side as "(none)".
void diff_settings(const std::string& provider,
                   const std::vector<std::pair<std::string, std::string>>& before,
                   const std::vector<std::pair<std::string, std::string>>& after,
                   std::vector<ProviderChange>& out) {
  std::map<std::string, std::pair<std::string, std::string>> fields;
  std::vector<std::string> order;
  for (const auto& [k, v] : before) {
    order.push_back(k);
    fields[k] = {v, k_none};
  }
  for (const auto& [k, v] : after) {
    if (!fields.contains(k)) {
      order.push_back(k);
      fields[k] = {k_none, v};
    } else {
      fields[k].second = v;
    }
  }
  for (const auto& k : order)
    if (fields[k].first != fields[k].second)
      out.push_back({provider, k, fields[k].first, fields[k].second});
}

// A stored run's settings in settings()'s form, for the fields a run records.
std::vector<std::pair<std::string, std::string>> stored_settings(const json& stored,
                                                                 const json& like) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, _] : like.items())
    out.emplace_back(key, stored.is_object() && stored.contains(key) ? text_of(stored[key])
                                                                     : std::string(k_none));
  if (stored.is_object() && stored.contains("headers") && stored["headers"].is_object())
    for (const auto& [name, value] : stored["headers"].items())
      out.emplace_back("headers." + name,
                       header_value(value.is_string() ? value.get<std::string>() : value.dump()));
  return out;
}

// What a run records of a provider and the gate checks: what decides its answers (the API, the
// endpoint or program, the model and sampling) and where its key goes.
json checked_fields(const providers::ProviderConfig& p) {
  json j = providers::answer_params(p);
  j["api_key_env"] = p.api_key_env;
  if (p.kind == providers::Kind::anthropic)
    j["anthropic_version"] = p.anthropic_version;
  return j;
}

} // namespace

std::string Base::describe() const {
  auto at = commit.substr(0, 12);
  return config_file ? fmt::format("{} at {}", *config_file, at)
                     : fmt::format("no evalkeep.toml at {} (the defaults)", at);
}

Result<Base> read_base(const suite::Workspace& ws, const fs::path& cwd, const std::string& base_ref,
                       const std::optional<std::string>& suite_override) {
  auto top = ws.in_git ? git::find_root(ws.root) : std::nullopt;
  if (!top)
    return with_hint(invalid("the gate compares git revisions, and this is not a git repository"),
                     "run it in the repository's working tree");
  Base b;
  b.repo_root = *top;
  b.commit = TRY(git::merge_base(*top, base_ref, "HEAD"));
  std::error_code ec;
  fs::path start = fs::absolute(cwd, ec).lexically_normal();
  // The project folder as the base has it: the pull request may have moved or deleted its
  // evalkeep.toml, which changes where the working tree's search stops.
  fs::path project = *top;
  for (fs::path dir = start;; dir = dir.parent_path()) {
    auto rel = dir == *top ? std::optional<std::string>("") : inside(*top, dir);
    if (!rel)
      break;
    auto file = rel->empty() ? std::string("evalkeep.toml") : *rel + "/evalkeep.toml";
    auto text = TRY(git::read_text_at(*top, b.commit, file));
    if (text) {
      auto config =
          suite::parse_config(*text, fmt::format("{} at {}", file, b.commit.substr(0, 12)));
      if (!config)
        return with_context(config.error(), "the base's configuration");
      b.config = std::move(*config);
      b.config_file = file;
      project = dir;
      break;
    }
    if (dir == *top || dir == dir.parent_path())
      break;
  }
  b.suite_overridden = suite_override && !suite_override->empty();
  fs::path suite = b.suite_overridden ? start / *suite_override : project / b.config.suite;
  auto rel = inside(*top, suite);
  if (!rel)
    return invalid("the suite '{}' is outside the repository", suite.lexically_normal().string());
  b.suite_path = *rel;
  return b;
}

Result<BaseSuite> BaseSuite::read(const Base& base) {
  BaseSuite out;
  std::string tmpl = (fs::temp_directory_path() / "evalkeep-gate-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    return fail(ExitCode::environment, "cannot create a temporary folder");
  out.m_dir = tmpl;
  fs::path file = out.m_dir / "base-suite.db";
  auto found = git::read_file_at(base.repo_root, base.commit, base.suite_path, file);
  if (!found)
    return with_context(found.error(), "the suite at the base");
  if (!*found)
    return out;
  auto s = suite::Suite::open_untrusted(file);
  if (!s)
    return with_context(s.error(),
                        fmt::format("the suite at the base {}", base.commit.substr(0, 12)));
  out.m_suite = std::move(*s);
  return out;
}

BaseSuite::BaseSuite(BaseSuite&& other) noexcept
    : m_dir(std::exchange(other.m_dir, {})), m_suite(std::move(other.m_suite)) {
  other.m_suite.reset();
}

BaseSuite::~BaseSuite() {
  m_suite.reset(); // closed before its folder goes
  std::error_code ignored;
  if (!m_dir.empty())
    fs::remove_all(m_dir, ignored);
}

std::vector<ProviderChange> provider_changes(const suite::Config& before,
                                             const suite::Config& after) {
  std::vector<ProviderChange> out;
  std::set<std::string> names;
  for (const auto& [name, _] : before.providers)
    names.insert(name);
  for (const auto& [name, _] : after.providers)
    names.insert(name);
  for (const auto& name : names) {
    auto b = before.providers.find(name);
    auto a = after.providers.find(name);
    if (b == before.providers.end())
      out.push_back({name, "", k_none, "added"});
    else if (a == after.providers.end())
      out.push_back({name, "", "defined", "removed"});
    else
      diff_settings(name, settings(b->second), settings(a->second), out);
  }
  if (before.judge != after.judge)
    out.push_back({"judge", "", before.judge.empty() ? k_none : before.judge,
                   after.judge.empty() ? k_none : after.judge});
  return out;
}

std::vector<ProviderChange> run_provider_changes(const std::string& name,
                                                 const providers::ProviderConfig* base,
                                                 const json& stored) {
  std::vector<ProviderChange> out;
  if (!base) {
    out.push_back({name, "", "(not defined at the base)", "used by the run"});
    return out;
  }
  auto like = checked_fields(*base);
  std::vector<std::pair<std::string, std::string>> want;
  for (const auto& [key, value] : like.items())
    want.emplace_back(key, text_of(value));
  for (const auto& [header, value] : base->headers)
    want.emplace_back("headers." + header, header_value(value));
  diff_settings(name, want, stored_settings(stored, like), out);
  return out;
}

Result<providers::ProviderConfig> base_provider(const Base& base, const std::string& name) {
  auto it = base.config.providers.find(name);
  if (it != base.config.providers.end())
    return it->second;
  std::vector<std::string> known;
  for (const auto& [n, _] : base.config.providers)
    known.push_back(n);
  return with_hint(
      invalid("provider '{}' is not defined in {}: the gate runs only the providers of the base",
              name, base.describe()),
      known.empty() ? "a provider added by this change can be used by the gate once it is merged"
                    : fmt::format("the base defines: {}", fmt::join(known, ", ")));
}

HeadSuite head_suite(const fs::path& repo_root, const std::string& path) {
  HeadSuite out{path, std::nullopt, std::nullopt};
  fs::path rel(path);
  auto escapes = rel.is_absolute() || !inside(repo_root, repo_root / rel);
  if (escapes) {
    out.refused = fmt::format("'{}' resolves outside the working tree", path);
    return out;
  }
  // Component by component, so that no symbolic link (to a file outside the tree, to /dev/zero,
  // to another suite) is followed, and nothing that is not a regular file is opened.
  fs::path at = repo_root;
  auto parts = rel.lexically_normal();
  for (auto it = parts.begin(); it != parts.end(); ++it) {
    at /= *it;
    std::error_code ec;
    auto st = fs::symlink_status(at, ec);
    bool last = std::next(it) == parts.end();
    auto shown = inside(repo_root, at).value_or(at.string());
    if (ec || st.type() == fs::file_type::not_found)
      return out;
    if (st.type() == fs::file_type::symlink) {
      out.refused = fmt::format("'{}' is a symbolic link: the suite must be a regular file in the "
                                "working tree",
                                shown);
      return out;
    }
    if (!last && st.type() != fs::file_type::directory) {
      out.refused = fmt::format("'{}' is not a folder", shown);
      return out;
    }
    if (last && st.type() != fs::file_type::regular) {
      const char* what =
          st.type() == fs::file_type::directory ? "a folder"
          : st.type() == fs::file_type::fifo    ? "a FIFO"
          : st.type() == fs::file_type::socket  ? "a socket"
          : st.type() == fs::file_type::character || st.type() == fs::file_type::block
              ? "a device"
              : "something other than a file";
      out.refused = fmt::format("'{}' is {}, not a suite file", shown, what);
      return out;
    }
  }
  out.file = repo_root / rel.lexically_normal();
  return out;
}

HeadSuite locate_head_suite(const suite::Workspace& ws, const Base& base) {
  if (base.suite_overridden || ws.config_error)
    return head_suite(base.repo_root, base.suite_path);
  auto rel = inside(base.repo_root, ws.suite_path);
  if (!rel)
    return {ws.suite_path.string(), std::nullopt,
            fmt::format("'{}' resolves outside the working tree", ws.suite_path.string())};
  return head_suite(base.repo_root, *rel);
}

} // namespace evalkeep::gate
