#include "scoring/script.hpp"

#include "core/process.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

extern char** environ;

namespace evalkeep::scoring {

namespace {

using json = nlohmann::json;

// What the programs print before the value they return, so that whatever the user's code writes
// to stdout itself cannot be taken for it.
constexpr std::string_view k_marker = "\x1e"
                                      "evalkeep-result ";

// Node: an inline value is an expression (or declarations then an expression) when it is one
// line, a function body otherwise, called as (output, context); a file's text is a CommonJS or ES
// module whose default export (or the named function) is called the same way.
constexpr std::string_view k_node_harness = R"JS(
const fs = require('fs');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = (v) => process.stdout.write('\n\x1eevalkeep-result ' + JSON.stringify(v));
for (const k of ['log', 'info', 'debug']) console[k] = console.error;
function lastSemicolon(t) { // the last ';' outside quotes
  let last = -1, quote = null;
  for (let i = 0; i < t.length; ++i) {
    const c = t[i];
    if (quote) {
      if (c === '\\') ++i;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === ';') last = i;
  }
  return last;
}
function body(code) {
  const t = code.trim().replace(/;+\s*$/, '');
  if (/^(const|let|var)\s/.test(t)) {
    const i = lastSemicolon(t);
    if (i !== -1 && t.slice(i + 1).trim()) return t.slice(0, i + 1) + ' return ' + t.slice(i + 1).trim();
    return t;
  }
  return 'return ' + t;
}
async function load() {
  if (!input.file) {
    const code = input.code.trimEnd();
    return new Function('output', 'context', code.includes('\n') ? code : body(code));
  }
  let exported;
  if (/^\s*export\s/m.test(input.code)) {
    exported = await import('data:text/javascript;base64,' + Buffer.from(input.code).toString('base64'));
  } else {
    const m = { exports: {} };
    const path = require('path');
    new Function('module', 'exports', 'require', '__filename', '__dirname', input.code)(
        m, m.exports, require, input.file, path.dirname(input.file));
    exported = m.exports;
  }
  const fn = input.function ? exported[input.function]
           : typeof exported === 'function' ? exported : exported && exported.default;
  if (typeof fn !== 'function')
    throw new Error(input.file + ' exports no function' + (input.function ? ' ' + input.function : ''));
  return fn;
}
load().then((fn) => fn(input.output, input.context)).then(
    (r) => out({ result: r === undefined ? null : r }),
    (e) => out({ error: String((e && e.stack) || e) }));
)JS";

// Python: an inline value is an expression when it is one line, a function body otherwise (its
// lines indented as the first indented line is), as promptfoo builds `main(output, context)`; a
// file's text defines the named function, get_assert or get_transform by default.
constexpr std::string_view k_python_harness = R"PY(
import json, re, sys, traceback
inp = json.load(sys.stdin)
real = sys.stdout
sys.stdout = sys.stderr
def load():
    if inp.get('file'):
        ns = {'__name__': 'evalkeep_script', '__file__': inp['file']}
        exec(compile(inp['code'], inp['file'], 'exec'), ns)
        name = inp.get('function') or inp['default_function']
        if not callable(ns.get(name)):
            raise Exception(inp['file'] + ' defines no function ' + name)
        return ns[name]
    code = inp['code']
    if '\n' in code:
        m = re.search(r'^(?!\s*$)\s+', code, re.M)
        indent = m.group(0) if m else '    '
        src = 'import json\n\ndef main(output, context):\n' + '\n'.join(indent + l for l in code.split('\n')) + '\n'
    else:
        src = 'import json\n\ndef main(output, context):\n    return ' + code + '\n'
    ns = {}
    exec(compile(src, '<assertion>', 'exec'), ns)
    return ns['main']
try:
    r = load()(inp['output'], inp['context'])
    text = json.dumps({'result': r}, default=lambda o: getattr(o, '__dict__', str(o)))
except BaseException:
    text = json.dumps({'error': traceback.format_exc()})
real.write('\n\x1eevalkeep-result ' + text)
real.flush()
)PY";

bool on_path(std::string_view program) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    auto colon = dirs.find(':');
    std::filesystem::path dir(std::string(dirs.substr(0, colon)));
    if (::access((dir / program).c_str(), X_OK) == 0)
      return true;
    dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
  }
  return false;
}

// Every inherited variable but those a program needs to start and find its libraries.
std::vector<std::string> all_but_minimal() {
  static constexpr std::string_view k_kept[] = {
      "PATH",    "HOME",      "LANG",       "TZ",         "TMPDIR",     "USER",
      "LOGNAME", "NODE_PATH", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"};
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto name = entry.substr(0, entry.find('='));
    bool kept = std::find(std::begin(k_kept), std::end(k_kept), name) != std::end(k_kept) ||
                name.starts_with("LC_") || name.starts_with("PYENV_");
    if (!kept)
      out.emplace_back(name);
  }
  return out;
}

std::unexpected<ScriptError> script_error(ScriptFailure kind, std::string message) {
  return std::unexpected(ScriptError{kind, std::move(message)});
}

// The value the harness printed after its marker.
std::expected<json, ScriptError> result_of(const core::ProcessResult& r, std::string_view name) {
  auto at = r.out.rfind(k_marker);
  if (at == std::string::npos) {
    std::string err = r.err.substr(0, 400);
    return script_error(ScriptFailure::failed,
                        fmt::format("{} exited with code {} and returned nothing{}{}", name,
                                    r.exit_code, err.empty() ? "" : ": ", err));
  }
  auto j = json::parse(r.out.substr(at + k_marker.size()), nullptr, false);
  if (!j.is_object())
    return script_error(ScriptFailure::bad_result, "the program's result is unreadable");
  if (j.contains("error"))
    return script_error(
        ScriptFailure::failed,
        fmt::format("the code threw an error: {}",
                    j["error"].is_string() ? j["error"].get<std::string>() : j["error"].dump()));
  return j.value("result", json());
}

} // namespace

std::string_view interpreter(Language language) {
  return language == Language::python ? "python3" : "node";
}

std::expected<json, ScriptError> run_script(const Script& s, const json& output,
                                            const ScriptContext& context,
                                            const ScriptLimits& limits, bool transform) {
  auto program = interpreter(s.language);
  if (!on_path(program))
    return script_error(ScriptFailure::no_interpreter,
                        fmt::format("{} code needs {}, which is not on PATH (install {})",
                                    to_string(s.language), program,
                                    s.language == Language::python ? "python3" : "nodejs"));
  // context.test: its vars, and the description (when there is one) and metadata it reads.
  json test{{"vars", context.vars.is_null() ? json::object() : context.vars}};
  if (context.test.is_object())
    for (const auto& [key, value] : context.test.items())
      if (!value.is_null())
        test[key] = value;
  json ctx{{"prompt", context.prompt},
           {"vars", context.vars.is_null() ? json::object() : context.vars},
           {"test", std::move(test)},
           {"config", context.config.is_null() ? json::object() : context.config}};
  json input{
      {"code", s.code},         {"file", s.file},
      {"function", s.function}, {"default_function", transform ? "get_transform" : "get_assert"},
      {"output", output},       {"context", std::move(ctx)}};
  core::ProcessOptions options;
  options.stdin_data = input.dump(-1, ' ', false, json::error_handler_t::replace);
  options.timeout_ms = limits.timeout_ms;
  options.max_output = limits.max_output;
  options.unset = limits.withheld ? *limits.withheld : all_but_minimal();
  std::vector<std::string> argv{
      std::string(program), s.language == Language::python ? "-c" : "-e",
      std::string(s.language == Language::python ? k_python_harness : k_node_harness)};
  auto r = core::run_process(argv, options);
  if (!r)
    return script_error(ScriptFailure::failed, r.error().message);
  if (r->timed_out)
    return script_error(ScriptFailure::timed_out,
                        fmt::format("the code ran longer than {} ms", limits.timeout_ms));
  if (r->output_too_large)
    return script_error(ScriptFailure::failed,
                        fmt::format("the code wrote more than {}", megabytes(limits.max_output)));
  return result_of(*r, program);
}

namespace {

ScriptVerdict number_verdict(double score, std::optional<double> threshold, std::string_view code) {
  bool passed = threshold ? score >= *threshold : score > 0;
  std::string reason = threshold ? fmt::format("{} returned {} (needs {})", code, score, *threshold)
                                 : fmt::format("{} returned {} (needs more than 0)", code, score);
  return {passed, score, std::move(reason)};
}

Result<ScriptVerdict> object_verdict(Language language, const json& r,
                                     std::optional<double> threshold) {
  auto pass = r.find("pass");
  if (pass == r.end() || !pass->is_boolean())
    return invalid("the code returned an object without a boolean \"pass\": {}",
                   r.dump().substr(0, 200));
  ScriptVerdict v;
  v.passed = pass->get<bool>();
  if (auto score = r.find("score"); score != r.end() && score->is_number())
    v.score = score->get<double>();
  if (v.score && !std::isfinite(*v.score))
    return invalid("the code returned a score that is not a finite number");
  if (auto reason = r.find("reason"); reason != r.end() && reason->is_string())
    v.reason = reason->get<std::string>();
  if (language == Language::python && threshold && v.score && *v.score < *threshold) {
    v.passed = false;
    v.reason = fmt::format("score {} is less than threshold {}{}{}", *v.score, *threshold,
                           v.reason.empty() ? "" : ": ", v.reason);
  }
  if (v.reason.empty())
    v.reason = v.passed ? "the code passed it" : "the code failed it";
  return v;
}

} // namespace

Result<ScriptVerdict> read_script_result(Language language, const json& result,
                                         std::optional<double> threshold) {
  std::string_view code = language == Language::python ? "the Python code" : "the JavaScript code";
  json r = result;
  if (language == Language::python && r.is_string()) {
    std::string s = r.get<std::string>();
    std::string lower = s;
    for (char& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "true" || lower == "false")
      r = lower == "true";
    else if (s.starts_with("{"))
      r = json::parse(s, nullptr, false);
    else {
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (end == s.c_str())
        return invalid("{} returned text that is no verdict: '{}'", code, s.substr(0, 100));
      r = d;
    }
  }
  if (r.is_boolean())
    return ScriptVerdict{r.get<bool>(), r.get<bool>() ? 1.0 : 0.0,
                         fmt::format("{} returned {}", code, r.get<bool>())};
  if (r.is_number()) {
    double d = r.get<double>();
    if (!std::isfinite(d))
      return invalid("{} returned a number that is not finite", code);
    return number_verdict(d, threshold, code);
  }
  if (r.is_object())
    return object_verdict(language, r, threshold);
  return invalid("{} must return a boolean, a number or {{pass, score, reason}}, got {}", code,
                 r.is_discarded() ? std::string("unreadable JSON") : r.dump().substr(0, 100));
}

} // namespace evalkeep::scoring
