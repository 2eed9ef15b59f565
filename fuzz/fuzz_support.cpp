#include "fuzz_support.hpp"

#include "suite/interchange.hpp"
#include "suite/suite.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <unistd.h>

namespace evalkeep::fuzz {

namespace fs = std::filesystem;

namespace {

// A small suite with every kind of record and ledger event an import makes: incidents, a case
// with a prompt, one with messages and every field, and a retired case with its decision.
constexpr std::string_view k_fixture =
    R"({"type":"incident","id":"INC-7","title":"Refund promised outside policy","date":"2026-03-02","severity":"high","url":"https://tracker.example/INC-7"})"
    "\n"
    R"({"type":"case","id":"refund-window","prompt":"Can I get a refund after 45 days?","expect":[{"type":"icontains","value":"30 days"},{"type":"json-path","path":"/a","value":[1,{"b":null}]}],"incident":"INC-7","tags":["billing"]})"
    "\n"
    R"({"type":"case","id":"tone-apology","title":"Tone","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"My order is late."}],"expect":[{"type":"not-contains","value":"unfortunately"},{"type":"judge","rubric":"apologises once","threshold":0.8}],"provenance":{"kind":"spec","note":"style guide 2.1"},"status":"xfail","trials":3,"min_pass_rate":0.66})"
    "\n"
    R"({"type":"case","id":"old-case","prompt":"Refunds?","expect":[{"type":"contains","value":"policy"}],"incident":"INC-7","status":"retired"})"
    "\n"
    R"({"type":"retirement","case":"old-case","reason":"superseded","rationale":"refund-window covers it","decided_by":"Dana <d@example.com>","approved_by":"Lee <l@example.com>","decided_at":"2026-05-01T10:00:00Z","superseded_by":["refund-window"]})"
    "\n";

} // namespace

void require(bool ok, std::string_view what) {
  if (ok)
    return;
  std::fprintf(stderr, "invariant broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

suite::Origin origin() {
  return {"Fuzz <fuzz@example.com>", "2026-05-01T10:00:00Z", std::nullopt};
}

const fs::path& scratch_dir() {
  // Never destroyed, so the exit handler that removes the folder can still name it.
  static const fs::path& dir = *new fs::path([] {
    fs::path d = fs::temp_directory_path() / ("evalkeep-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(scratch_dir(), ec);
    });
    return d;
  }());
  return dir;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  require(static_cast<bool>(out), "write a scratch file");
}

std::string suite_bytes(std::string_view extra_jsonl) {
  fs::path file = scratch_dir() / "built.db";
  fs::remove(file);
  {
    auto s = suite::Suite::create(file);
    require(s.has_value(), "create a suite");
    for (std::string_view jsonl : {k_fixture, extra_jsonl}) {
      if (jsonl.empty())
        continue;
      auto imported = suite::import_jsonl(*s, jsonl, "fixture", {}, origin(), false);
      require(imported.has_value(), imported ? "" : imported.error().message);
    }
  }
  std::string bytes = read_bytes(file);
  fs::remove(file);
  return bytes;
}

void apply_patches(std::span<const std::uint8_t> data, std::vector<std::string*> files) {
  while (data.size() >= 6 && !files.empty()) {
    std::string& file = *files[data[0] % files.size()];
    std::size_t offset =
        data[1] | data[2] << 8 | data[3] << 16 | static_cast<std::size_t>(data[4]) << 24;
    std::size_t len = std::min<std::size_t>(data[5], data.size() - 6);
    data = data.subspan(6);
    if (!file.empty()) {
      offset %= file.size();
      len = std::min(len, file.size() - offset);
      std::copy_n(data.begin(), len, file.begin() + static_cast<std::ptrdiff_t>(offset));
    }
    data = data.subspan(len);
  }
}

} // namespace evalkeep::fuzz
