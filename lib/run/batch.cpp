#include "run/batch.hpp"

#include "core/time.hpp"

#include <map>
#include <set>
#include <thread>
#include <tuple>

#include <fmt/format.h>

namespace evalkeep::run {

namespace bw = providers::batch_wire;

namespace {

constexpr std::uint64_t k_batch_token = ~std::uint64_t{0};

// One HTTP exchange of the batch API, waited for. An error names the step; what the provider
// said is cleared of the key first (a server may echo the request).
Result<std::string> exchange(providers::Transport& transport, providers::HttpRequest request,
                             const std::string& key, std::string_view step) {
  transport.start(k_batch_token, std::move(request));
  transport.send();
  for (;;) {
    auto done = transport.wait(1000);
    if (done.empty())
      continue;
    auto& r = done.front();
    providers::redact(r.body, key);
    providers::redact(r.transport_message, key);
    if (r.transport_error != providers::ErrorClass::none)
      return fail(ExitCode::environment, "{}: {}", step, r.transport_message);
    if (r.status / 100 != 2)
      return fail(ExitCode::environment, "{}: HTTP {}: {}", step, r.status,
                  bw::error_message(r.body));
    return std::move(r.body);
  }
}

Status record_batch(RunsStore& store, std::int64_t run, const providers::ProviderConfig& p,
                    const std::string& batch_id, const std::string& input_file_id,
                    const std::string& state, const std::vector<BatchItem>& items,
                    const std::vector<std::string>& custom_ids) {
  auto& db = store.db();
  auto tx = TRY(store::Transaction::begin(db));
  auto ins = TRY(db.prepare("INSERT INTO batches (run_id, provider_kind, batch_id, input_file_id, "
                            "state, created_at) VALUES (?, ?, ?, ?, ?, ?)"));
  std::optional<std::string> file;
  if (!input_file_id.empty())
    file = input_file_id;
  ins.bind_all(run, std::string(providers::to_string(p.kind)), batch_id, file, state,
               core::now_utc());
  TRY(ins.run());
  auto row = TRY(db.scalar("SELECT last_insert_rowid()"));
  auto req =
      TRY(db.prepare("INSERT INTO batch_requests (batch, custom_id, case_id, trial, slot) VALUES "
                     "(?,?,?,?,?)"));
  for (std::size_t i = 0; i < items.size(); ++i) {
    req.bind_all(row, custom_ids[i], items[i].case_id, items[i].trial,
                 static_cast<std::int64_t>(items[i].slot));
    TRY(req.run());
  }
  return tx.commit();
}

Status update_batch(RunsStore& store, const std::string& batch_id, const bw::BatchStatus& s,
                    bool collected) {
  auto upd = TRY(store.db().prepare(
      "UPDATE batches SET state = ?2, output_file_id = ?3, error_file_id = ?4, collected = ?5, "
      "updated_at = ?6 WHERE batch_id = ?1"));
  auto opt = [](const std::string& v) {
    return v.empty() ? std::optional<std::string>() : std::optional(v);
  };
  upd.bind_all(batch_id, s.status, opt(s.output_file_id), opt(s.error_file_id), collected ? 1 : 0,
               core::now_utc());
  return upd.run();
}

// Submits a new batch of `items` and records it; returns its id.
Result<std::string> submit(RunsStore& store, std::int64_t run, const providers::ProviderConfig& p,
                           const std::string& key, const std::vector<BatchItem>& items,
                           providers::Transport& transport, const BatchSink& sink) {
  std::vector<bw::BatchLine> lines;
  std::vector<std::string> custom_ids;
  for (std::size_t i = 0; i < items.size(); ++i) {
    // Anthropic allows [a-zA-Z0-9_-]{1,64}: case ids may not fit, so the store maps them.
    custom_ids.push_back(fmt::format("r{}", i));
    lines.push_back({custom_ids.back(), items[i].body});
  }
  std::string file_id;
  if (p.kind == providers::Kind::openai) {
    auto uploaded =
        TRY(exchange(transport, bw::upload_request(p, lines, key), key, "upload the batch file"));
    file_id = TRY(bw::parse_file(uploaded));
  }
  auto created =
      TRY(exchange(transport, bw::create_request(p, file_id, lines, key), key, "create the batch"));
  auto status = TRY(bw::parse_status(p.kind, created));
  TRY(sink.submitted());
  TRY(record_batch(store, run, p, status.id, file_id, status.status, items, custom_ids));
  if (sink.progress)
    sink.progress(fmt::format("submitted batch {} of {} requests", status.id, items.size()));
  return status.id;
}

// Polls a batch until it ends.
Result<bw::BatchStatus> wait_for(RunsStore& store, const providers::ProviderConfig& p,
                                 const std::string& key, const std::string& batch_id,
                                 const BatchSettings& settings, providers::Transport& transport,
                                 const BatchSink& sink) {
  std::string last;
  int failures = 0;
  for (;;) {
    auto body = exchange(transport, bw::status_request(p, batch_id, key), key,
                         fmt::format("poll batch {}", batch_id));
    if (!body) {
      // A poll that fails is tried again: the batch goes on at the provider meanwhile.
      if (++failures >= 5)
        return std::unexpected(body.error());
    } else {
      failures = 0;
      auto s = TRY(bw::parse_status(p.kind, *body));
      auto line = fmt::format("batch {}: {} {}/{}", s.id, s.status, s.done, s.total);
      if (line != last) {
        TRY(update_batch(store, batch_id, s, false));
        if (sink.progress)
          sink.progress(line);
        last = line;
      }
      if (s.ended)
        return s;
    }
    std::this_thread::sleep_for(settings.poll_interval);
  }
}

// Hands the results of an ended batch to the sink.
Status collect(const providers::ProviderConfig& p, const std::string& key, const bw::BatchStatus& s,
               const std::map<std::string, std::size_t>& wanted, providers::Transport& transport,
               const BatchSink& sink) {
  std::vector<std::string> sources;
  if (p.kind == providers::Kind::anthropic) {
    if (!s.results_url.empty())
      sources.push_back(s.results_url);
  } else {
    for (const auto* id : {&s.output_file_id, &s.error_file_id})
      if (!id->empty())
        sources.push_back(*id);
  }
  std::set<std::string> seen;
  for (const auto& source : sources) {
    auto text = TRY(exchange(transport, bw::content_request(p, source, key), key,
                             fmt::format("download the results of batch {}", s.id)));
    auto lines = TRY(bw::parse_results(p.kind, text));
    for (auto& line : lines) {
      auto it = wanted.find(line.custom_id);
      if (it == wanted.end() || !seen.insert(line.custom_id).second)
        continue; // stored already, or not this run's
      providers::redact(line.body, key);
      providers::redact(line.message, key);
      if (line.unfinished)
        TRY(sink.failed(it->second, line.reason, line.message));
      else
        TRY(sink.answered(it->second, line.status, std::move(line.body)));
    }
  }
  // A request with no line at all: the whole batch failed (validation), or it expired or was
  // cancelled before the provider wrote the request's line.
  for (const auto& [custom_id, index] : wanted) {
    if (seen.contains(custom_id))
      continue;
    std::string cls = s.status == "failed"                                ? "bad-request"
                      : s.status == "cancelled" || s.status == "canceled" ? "cancelled"
                                                                          : "expired";
    std::string message =
        s.status == "failed"
            ? fmt::format("batch {} failed: {}", s.id,
                          s.message.empty() ? "no reason given" : s.message)
            : fmt::format("batch {} ended ({}) without this request's result", s.id, s.status);
    TRY(sink.failed(index, cls, message));
  }
  return sink.collected();
}

} // namespace

Result<std::vector<StoredBatch>> stored_batches(RunsStore& store, std::int64_t run) {
  std::vector<StoredBatch> out;
  TRY(store::each_row(
      store.db(),
      "SELECT id, provider_kind, batch_id, coalesce(input_file_id, ''), state, collected "
      "FROM batches WHERE run_id = ?1 ORDER BY id",
      [&](const store::Statement& s) {
        out.push_back(
            {s.integer(0), s.str(1), s.str(2), s.str(3), s.str(4), s.integer(5) != 0, {}});
      },
      run));
  for (auto& b : out)
    TRY(store::each_row(
        store.db(),
        "SELECT custom_id, case_id, trial, slot FROM batch_requests WHERE batch = ?1 ORDER BY "
        "rowid",
        [&](const store::Statement& s) {
          b.requests.push_back({s.str(0), s.str(1), static_cast<int>(s.integer(2)),
                                static_cast<std::size_t>(s.integer(3))});
        },
        b.row));
  return out;
}

Result<std::vector<std::string>> run_batches(RunsStore& store, std::int64_t run,
                                             const providers::ProviderConfig& p,
                                             const std::string& key, const BatchSettings& settings,
                                             const std::vector<BatchItem>& items,
                                             providers::Transport& transport,
                                             const BatchSink& sink) {
  if (!bw::supports_batch(p.kind))
    return invalid("provider {} ({}) has no batch API: run it without --batch", p.name,
                   providers::to_string(p.kind));
  std::map<std::tuple<std::string, int, std::size_t>, std::size_t> by_call;
  for (std::size_t i = 0; i < items.size(); ++i)
    by_call[{items[i].case_id, items[i].trial, items[i].slot}] = i;
  // The batches left behind by an earlier invocation, with the items they hold.
  std::vector<std::pair<std::string, std::map<std::string, std::size_t>>> batches;
  std::set<std::size_t> taken;
  for (const auto& b : TRY(stored_batches(store, run))) {
    // Another provider's batch (the judge's, the answers') holds none of these calls.
    if (b.collected || b.provider_kind != providers::to_string(p.kind))
      continue;
    std::map<std::string, std::size_t> wanted;
    for (const auto& r : b.requests)
      if (auto it = by_call.find({r.case_id, r.trial, r.slot});
          it != by_call.end() && !taken.contains(it->second)) {
        wanted[r.custom_id] = items[it->second].index;
        taken.insert(it->second);
      }
    if (!wanted.empty()) {
      if (sink.progress)
        sink.progress(
            fmt::format("resuming batch {} ({} requests left)", b.batch_id, wanted.size()));
      batches.emplace_back(b.batch_id, std::move(wanted));
    }
  }
  std::vector<BatchItem> fresh;
  for (std::size_t i = 0; i < items.size(); ++i)
    if (!taken.contains(i))
      fresh.push_back(items[i]);
  if (!fresh.empty()) {
    auto id = TRY(submit(store, run, p, key, fresh, transport, sink));
    std::map<std::string, std::size_t> wanted;
    for (std::size_t i = 0; i < fresh.size(); ++i)
      wanted[fmt::format("r{}", i)] = fresh[i].index;
    batches.emplace_back(id, std::move(wanted));
  } else {
    TRY(sink.submitted());
  }
  std::vector<std::string> ids;
  for (const auto& [id, wanted] : batches) {
    auto s = TRY(wait_for(store, p, key, id, settings, transport, sink));
    TRY(collect(p, key, s, wanted, transport, sink));
    TRY(update_batch(store, id, s, !sink.defer_collected));
    ids.push_back(id);
  }
  return ids;
}

Status mark_collected(RunsStore& store, std::int64_t run,
                      const std::vector<std::string>& batch_ids) {
  if (batch_ids.empty())
    return {};
  auto& db = store.db();
  auto tx = TRY(store::Transaction::begin(db));
  auto upd = TRY(db.prepare("UPDATE batches SET collected = 1, updated_at = ?3 WHERE run_id = ?1 "
                            "AND batch_id = ?2"));
  for (const auto& id : batch_ids) {
    upd.bind_all(run, id, core::now_utc());
    TRY(upd.run());
  }
  return tx.commit();
}

} // namespace evalkeep::run
