// One CLI11 tree, read four ways: --help (CLI11's own formatter), the man page (help-man),
// docs/COMMANDS.md (help-markdown) and shell completions (completion bash|zsh|fish). The last three
// walk the tree here, so a new command or flag shows up in all of them; usage errors walk it too,
// to name the command or flag a typo was closest to.

#include "cli/context.hpp"
#include "core/spelling.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>

#include <CLI/CLI.hpp>

namespace evalkeep::cli {

namespace {

/// A command as typed after "evalkeep": "runs list", or "" for evalkeep itself.
struct Command {
  std::string path;
  const CLI::App* app = nullptr;

  std::string line() const { return path.empty() ? "evalkeep" : "evalkeep " + path; }
};

// Hidden commands (an empty group) are for the build and stay out of every listing.
std::vector<const CLI::App*> subcommands_of(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* a) {
    return !a->get_name().empty() && !a->get_group().empty() && !a->get_disabled();
  });
}

void collect(const CLI::App& app, const std::string& path, std::vector<Command>& out) {
  out.push_back({path, &app});
  for (const auto* sub : subcommands_of(app))
    collect(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
}

/// Every listed command, depth first in the order --help lists them.
std::vector<Command> command_tree(const CLI::App& root) {
  std::vector<Command> out;
  collect(root, "", out);
  return out;
}

std::vector<const CLI::Option*> positionals_of(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return o->get_positional(); });
}

/// The flags typed at this command: its own, then its parents' (the parser falls through to
/// them); one help flag.
std::vector<const CLI::Option*> accepted_flags(const CLI::App& app) {
  std::vector<const CLI::Option*> out;
  for (const CLI::App* a = &app; a; a = a->get_parent())
    for (const auto* o : a->get_options([](const CLI::Option* o) { return o->nonpositional(); }))
      if (!o->get_group().empty() && (o != a->get_help_ptr() || !a->get_parent()))
        out.push_back(o);
  return out;
}

std::vector<std::string> names_of(const CLI::Option* o) {
  std::vector<std::string> out;
  for (const auto& s : o->get_snames())
    out.push_back("-" + s);
  for (const auto& l : o->get_lnames())
    out.push_back("--" + l);
  return out;
}

bool takes_value(const CLI::Option* o) {
  return o->get_type_size_max() != 0 && o->get_expected_min() > 0;
}

/// The values a validator allows, as --help shows them: "TEXT:{text,md,json,html}".
std::vector<std::string> choices_of(const CLI::Option* o) {
  std::string type = o->get_type_name();
  auto open = type.find('{');
  auto close = type.rfind('}');
  if (open == std::string::npos || close == std::string::npos || close < open)
    return {};
  return CLI::detail::split(type.substr(open + 1, close - open - 1), ',');
}

std::string join(const std::vector<std::string>& words, std::string_view sep = " ") {
  std::string out;
  for (const auto& w : words)
    out += (out.empty() ? "" : std::string(sep)) + w;
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at <= text.size();) {
    auto nl = std::min(text.find('\n', at), text.size());
    out.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  while (!out.empty() && out.back().empty())
    out.pop_back();
  return out;
}

/// A footer in blocks: paragraphs of prose (a line ending in '.' or ':' ends one), and commands
/// (the lines indented by two spaces, indent removed).
struct Block {
  bool code = false;
  std::vector<std::string> lines;
};

std::vector<Block> blocks_of(const std::string& footer) {
  std::vector<Block> out;
  for (const auto& line : lines_of(footer)) {
    bool code = line.starts_with("  ");
    if (line.empty()) {
      out.push_back({});
      continue;
    }
    if (out.empty() || out.back().code != code || (!code && out.back().lines.empty()))
      out.push_back({code, {}});
    out.back().lines.push_back(code ? line.substr(2) : line);
    if (!code && (line.ends_with('.') || line.ends_with(':')))
      out.push_back({});
  }
  std::erase_if(out, [](const Block& b) { return b.lines.empty(); });
  return out;
}

// What every page says of a command: its usage line, and each argument and flag with its
// placeholder and description, exactly as --help prints them.
struct Entry {
  std::string name, opts, description;
};

std::string usage_of(const Command& c) {
  std::string usage = CLI::Formatter().make_usage(c.app, c.line());
  usage = usage.substr(usage.find(':') + 2);
  while (!usage.empty() && usage.back() == '\n')
    usage.pop_back();
  return usage;
}

std::vector<Entry> entries_of(const Command& c) {
  CLI::Formatter f;
  std::vector<Entry> out;
  for (const auto* o : positionals_of(*c.app))
    out.push_back({f.make_option_name(o, true), f.make_option_opts(o), f.make_option_desc(o)});
  for (const auto* o : c.app->get_options([](const CLI::Option* o) { return o->nonpositional(); }))
    if (!o->get_group().empty() && (o != c.app->get_help_ptr() || c.path.empty()))
      out.push_back({f.make_option_name(o, false), f.make_option_opts(o), f.make_option_desc(o)});
  return out;
}

// ---- docs/COMMANDS.md --------------------------------------------------------------------------

std::string md_cell(std::string_view text) {
  std::string out;
  for (char c : text)
    out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string md_anchor(const Command& c) {
  std::string out;
  for (char ch : c.line())
    out += ch == ' ' ? '-' : ch;
  return out;
}

std::string md_blocks(const std::string& footer) {
  std::string out;
  for (const auto& b : blocks_of(footer))
    out += b.code ? "```\n" + join(b.lines, "\n") + "\n```\n\n" : join(b.lines, "\n") + "\n\n";
  return out;
}

std::string markdown(const CLI::App& root) {
  auto tree = command_tree(root);
  std::string out =
      "# Commands\n\n<!-- Generated by `evalkeep help-markdown` from the same text as "
      "`--help`; a test fails when this file differs. -->\n\n";
  out += root.get_description() + "\n\n";
  for (const auto& c : tree)
    if (!c.path.empty())
      out += fmt::format("{}- [`{}`](#{}): {}\n",
                         std::string(2 * std::ranges::count(c.path, ' '), ' '), c.line(),
                         md_anchor(c), c.app->get_description());
  for (const auto& c : tree) {
    while (out.ends_with("\n\n"))
      out.pop_back();
    out += fmt::format("\n## {}\n\n", c.line());
    if (!c.path.empty())
      out += c.app->get_description() + "\n\n";
    out += fmt::format("```\n{}\n```\n\n", usage_of(c));
    auto entries = entries_of(c);
    if (!entries.empty()) {
      out += "| argument or option | |\n| --- | --- |\n";
      for (const auto& e : entries)
        out += fmt::format("| `{}{}` | {} |\n", e.name, md_cell(e.opts), md_cell(e.description));
      out += "\n";
    }
    if (auto subs = subcommands_of(*c.app); !subs.empty() && !c.path.empty()) {
      for (const auto* s : subs)
        out += fmt::format("- [`{0} {1}`](#{2}-{1}): {3}\n", c.line(), s->get_name(), md_anchor(c),
                           s->get_description());
      out += "\n";
    }
    out += md_blocks(c.app->get_footer());
  }
  while (out.ends_with("\n\n"))
    out.pop_back();
  return out;
}

// ---- the man page ------------------------------------------------------------------------------

// One line of text for roff: backslashes and hyphens escaped (so options can be copied), and
// never a control character at the start of a line.
std::string roff(std::string_view text) {
  std::string out;
  for (char c : text)
    out += c == '\\' ? std::string("\\e") : c == '-' ? std::string("\\-") : std::string(1, c);
  if (!out.empty() && (out[0] == '.' || out[0] == '\''))
    out.insert(0, "\\&");
  return out;
}

std::string roff_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines)
    out += roff(l) + "\n";
  return out;
}

std::string roff_blocks(const std::string& footer) {
  std::string out;
  for (const auto& b : blocks_of(footer))
    out += b.code ? ".PP\n.RS 4\n.nf\n" + roff_lines(b.lines) + ".fi\n.RE\n"
                  : ".PP\n" + roff_lines(b.lines);
  return out;
}

std::string roff_entries(const Command& c) {
  std::string out;
  for (const auto& e : entries_of(c))
    out += fmt::format(".TP\n\\fB{}\\fR{}\n{}\n", roff(e.name), roff(e.opts), roff(e.description));
  return out;
}

std::string man_page(const CLI::App& root) {
  auto tree = command_tree(root);
  auto description = lines_of(root.get_description());
  std::string name = description.empty() ? "" : description.front();
  if (name.starts_with("evalkeep "))
    name = name.substr(9);
  if (name.ends_with("."))
    name.pop_back();
  std::string out =
      fmt::format(".\\\" Generated by 'evalkeep help-man' from the text of --help.\n"
                  ".TH EVALKEEP 1 \"\" \"evalkeep {}\" \"User Commands\"\n.nh\n.ad l\n",
                  EVALKEEP_VERSION);
  out += ".SH NAME\nevalkeep \\- " + roff(name) + "\n";
  out += ".SH SYNOPSIS\n.nf\n" + roff(usage_of(tree.front())) + "\n";
  for (const auto& c : tree)
    if (!c.path.empty() && subcommands_of(*c.app).empty())
      out += roff(usage_of(c)) + "\n";
  out += ".fi\n.SH DESCRIPTION\n" + roff_lines(description) + roff_blocks(root.get_footer());
  out += ".SH OPTIONS\n" + roff_entries(tree.front()) + ".SH COMMANDS\n";
  for (const auto& c : tree) {
    if (c.path.empty())
      continue;
    out += fmt::format(".SS \"{}\"\n{}\n.PP\n.nf\n{}\n.fi\n", roff(c.line()),
                       roff(c.app->get_description()), roff(usage_of(c)));
    out += roff_entries(c);
    for (const auto* s : subcommands_of(*c.app))
      out += fmt::format(".TP\n\\fB{}\\fR\n{}\n", roff(s->get_name()), roff(s->get_description()));
    out += roff_blocks(c.app->get_footer());
  }
  out += ".SH SEE ALSO\n\\fBgit\\fR(1), \\fBsqlite3\\fR(1)\n";
  return out;
}

// ---- shell completions -------------------------------------------------------------------------

// What a completion needs at one command: what may follow it, and which flags take a value.
struct Completion {
  std::vector<std::pair<std::string, std::string>> subs, flags; // name, description
  std::vector<std::string> valued, args;                        // args: the first positional's
  bool files = false;                                           // choices; else files
  std::vector<std::pair<std::string, std::vector<std::string>>> choices; // flag, its values
};

Completion completion_of(const Command& c) {
  Completion out;
  for (const auto* s : subcommands_of(*c.app))
    out.subs.emplace_back(s->get_name(), s->get_description());
  std::set<std::string> seen;
  for (const auto* o : accepted_flags(*c.app))
    for (const auto& n : names_of(o)) {
      if (!seen.insert(n).second)
        continue;
      out.flags.emplace_back(n, o->get_description());
      if (takes_value(o)) {
        out.valued.push_back(n);
        if (auto values = choices_of(o); !values.empty())
          out.choices.emplace_back(n, values);
      }
    }
  auto positionals = positionals_of(*c.app);
  if (!positionals.empty()) {
    out.args = choices_of(positionals.front());
    out.files = out.args.empty();
  }
  return out;
}

// A word in single quotes for bash, zsh and fish alike.
std::string shell_quoted(std::string_view text) {
  std::string out = "'";
  for (char c : text)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string shell_quoted_each(const std::vector<std::string>& words) {
  std::vector<std::string> out;
  for (const auto& w : words)
    out.push_back(shell_quoted(w));
  return join(out);
}

std::vector<std::string> names(const std::vector<std::pair<std::string, std::string>>& items) {
  std::vector<std::string> out;
  for (const auto& [name, _] : items)
    out.push_back(name);
  return out;
}

// The same walk in each shell: skip each flag's value, follow each subcommand name, then offer
// what may come next.
std::string bash_completion(const CLI::App& root) {
  std::string spec, values;
  for (const auto& c : command_tree(root)) {
    auto k = completion_of(c);
    spec +=
        fmt::format("  {}) subs={} flags={} valued={} args={} files={} ;;\n", shell_quoted(c.path),
                    shell_quoted(join(names(k.subs))), shell_quoted(join(names(k.flags))),
                    shell_quoted(join(k.valued)), shell_quoted(join(k.args)), k.files ? 1 : 0);
    for (const auto& [flag, v] : k.choices)
      values += fmt::format("  {}) echo {} ;;\n", shell_quoted(c.path + " " + flag),
                            shell_quoted(join(v)));
  }
  return fmt::format(
      R"(# bash completion for evalkeep, generated by 'evalkeep completion bash' from its --help
_evalkeep_spec() {{
  case $1 in
{}  esac
}}
_evalkeep_choices() {{
  case $1 in
{}  esac
}}
_evalkeep() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} cmd='' subs flags valued args files w i skip=0
  _evalkeep_spec ''
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${{COMP_WORDS[i]}}
    if ((skip)); then
      skip=0
    elif [[ " $valued " == *" $w "* ]]; then
      skip=1
    elif [[ $w != -* && " $subs " == *" $w "* ]]; then
      cmd=${{cmd:+$cmd }}$w
      _evalkeep_spec "$cmd"
    fi
  done
  if ((skip)); then
    local choices
    choices=$(_evalkeep_choices "$cmd ${{COMP_WORDS[COMP_CWORD-1]}}")
    if [[ -n $choices ]]; then
      mapfile -t COMPREPLY < <(compgen -W "$choices" -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
  elif [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$flags" -- "$cur")
  elif [[ -n $subs || -n $args ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$subs $args" -- "$cur")
  elif ((files)); then
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  fi
}}
complete -o filenames -F _evalkeep evalkeep
)",
      spec, values);
}

std::string zsh_described(const std::vector<std::pair<std::string, std::string>>& items) {
  std::vector<std::string> out;
  for (const auto& [name, description] : items)
    out.push_back(shell_quoted(name + ":" + description));
  return "(" + join(out) + ")";
}

std::string zsh_completion(const CLI::App& root) {
  std::string spec, values;
  for (const auto& c : command_tree(root)) {
    auto k = completion_of(c);
    spec += fmt::format("  {}) subs={} flags={} valued=({}) args=({}) files={} ;;\n",
                        shell_quoted(c.path), zsh_described(k.subs), zsh_described(k.flags),
                        shell_quoted_each(k.valued), shell_quoted_each(k.args), k.files ? 1 : 0);
    for (const auto& [flag, v] : k.choices)
      values += fmt::format("  {}) reply=({}) ;;\n", shell_quoted(c.path + " " + flag),
                            shell_quoted_each(v));
  }
  return fmt::format(R"(#compdef evalkeep
# zsh completion for evalkeep, generated by 'evalkeep completion zsh' from its --help
_evalkeep_spec() {{
  case $1 in
{}  esac
}}
_evalkeep_choices() {{
  reply=()
  case $1 in
{}  esac
}}
_evalkeep() {{
  local cmd='' w i skip=0 files=0
  local -a subs flags valued args reply known
  _evalkeep_spec ''
  for ((i = 2; i < CURRENT; i++)); do
    w=${{words[i]}}
    if ((skip)); then
      skip=0
    elif ((${{valued[(Ie)$w]}})); then
      skip=1
    else
      known=(${{subs%%:*}})
      if [[ $w != -* ]] && ((${{known[(Ie)$w]}})); then
        cmd=${{cmd:+$cmd }}$w
        _evalkeep_spec "$cmd"
      fi
    fi
  done
  if ((skip)); then
    _evalkeep_choices "$cmd ${{words[CURRENT-1]}}"
    if ((${{#reply}})); then compadd -a reply; else _files; fi
  elif [[ ${{words[CURRENT]}} == -* ]]; then
    _describe -t options option flags
  elif ((${{#subs}})); then
    _describe -t commands command subs
  elif ((${{#args}})); then
    compadd -a args
  elif ((files)); then
    _files
  fi
}}
if [[ $funcstack[1] == _evalkeep ]]; then _evalkeep "$@"; else compdef _evalkeep evalkeep; fi
)",
                     spec, values);
}

std::string fish_completion(const CLI::App& root) {
  std::string subs, valued, lines;
  for (const auto& c : command_tree(root)) {
    auto k = completion_of(c);
    subs += fmt::format("        case {}\n            printf '%s\\n' {}\n", shell_quoted(c.path),
                        shell_quoted_each(names(k.subs)));
    valued += fmt::format("        case {}\n            printf '%s\\n' {}\n", shell_quoted(c.path),
                          shell_quoted_each(k.valued));
    auto at = fmt::format("complete -c evalkeep -n {}",
                          shell_quoted("__evalkeep_at " + shell_quoted(c.path)));
    for (const auto& [name, description] : k.subs)
      lines += fmt::format("{} -a {} -d {}\n", at, shell_quoted(name), shell_quoted(description));
    // Each command's own flags; its parents' are offered by their own lines below them.
    for (const auto* o :
         c.app->get_options([](const CLI::Option* o) { return o->nonpositional(); })) {
      if (o->get_group().empty() || (o == c.app->get_help_ptr() && !c.path.empty()))
        continue;
      std::string spec = c.path.empty()
                             ? "complete -c evalkeep"
                             : fmt::format("complete -c evalkeep -n {}",
                                           shell_quoted("__evalkeep_in " + shell_quoted(c.path)));
      for (const auto& s : o->get_snames())
        spec += " -s " + s;
      for (const auto& l : o->get_lnames())
        spec += " -l " + l;
      if (takes_value(o))
        spec += choices_of(o).empty() ? " -r" : " -x -a " + shell_quoted(join(choices_of(o)));
      lines += fmt::format("{} -d {}\n", spec, shell_quoted(o->get_description()));
    }
    if (!k.args.empty())
      lines += fmt::format("{} -a {}\n", at, shell_quoted(join(k.args)));
    else if (k.files)
      lines += at + " -F\n";
  }
  return fmt::format(
      R"(# fish completion for evalkeep, generated by 'evalkeep completion fish' from its --help
function __evalkeep_subs
    switch "$argv[1]"
{}    end
end
function __evalkeep_valued
    switch "$argv[1]"
{}    end
end
# The command on the line so far, e.g. "runs list".
function __evalkeep_command
    set -l cmd ''
    set -l skip 0
    for w in (commandline -opc)[2..-1]
        if test $skip = 1
            set skip 0
        else if contains -- $w (__evalkeep_valued $cmd)
            set skip 1
        else if contains -- $w (__evalkeep_subs $cmd)
            set cmd (string trim -- "$cmd $w")
        end
    end
    echo $cmd
end
function __evalkeep_at
    set -l cmd (__evalkeep_command)
    test "$cmd" = "$argv[1]"
end
function __evalkeep_in
    set -l cmd (__evalkeep_command)
    test "$cmd" = "$argv[1]"; or string match -q -- "$argv[1] *" "$cmd"
end
complete -c evalkeep -f
{})",
      subs, valued, lines);
}

struct CompletionOptions {
  std::string shell;
};

} // namespace

Error usage_error(const CLI::App& app, const CLI::ParseError& e) {
  // The deepest command that was recognised, whose help and flags the message is about.
  const CLI::App* deepest = &app;
  std::string path;
  while (!deepest->get_subcommands().empty()) {
    deepest = deepest->get_subcommands().front();
    path += (path.empty() ? "" : " ") + deepest->get_name();
  }
  Command c{path, deepest};
  std::string message = e.what();
  if (!message.empty())
    message[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(message[0])));
  Error out{ExitCode::usage, message, fmt::format("see '{} --help'", c.line())};

  // What the parser left over: where a command is expected, the first thing; after a command, the
  // first unknown flag (a word after it is likely its value).
  auto left = app.remaining(true);
  auto subs = subcommands_of(*deepest);
  auto flag =
      subs.empty()
          ? std::ranges::find_if(left, [](const std::string& w) { return w.starts_with('-'); })
          : left.begin();
  if (flag != left.end() && flag->starts_with('-')) {
    std::string word = flag->substr(0, flag->find('='));
    std::vector<std::string> candidates;
    for (const auto* o : accepted_flags(*deepest))
      for (auto& n : names_of(o))
        candidates.push_back(std::move(n));
    out.message = c.path.empty() ? fmt::format("unknown option '{}'", word)
                                 : fmt::format("unknown option '{}' for '{}'", word, c.line());
    if (auto near = core::closest_spelling(word, candidates))
      out.hint = fmt::format("did you mean '{}'?", *near);
    return out;
  }
  if (left.empty() || subs.empty())
    return out;
  std::vector<std::string> candidates;
  for (const auto* s : subs)
    candidates.push_back(s->get_name());
  std::string prefix = c.path.empty() ? "" : c.path + " ";
  out.message = fmt::format("unknown command '{}{}'", prefix, left.front());
  if (auto near = core::closest_spelling(left.front(), candidates))
    out.hint = fmt::format("did you mean '{}{}'?", prefix, *near);
  return out;
}

void add_help_commands(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<CompletionOptions>();
  auto* cmd = app.add_subcommand("completion", "Print a shell completion script");
  cmd->add_option("shell", o->shell, "The shell")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  cmd->footer("Packages install these; for a build of your own:\n"
              "Examples:\n  evalkeep completion bash > ~/.local/share/bash-completion/completions/"
              "evalkeep\n  evalkeep completion zsh > ~/.zfunc/_evalkeep    # with "
              "fpath+=(~/.zfunc) in ~/.zshrc\n"
              "  evalkeep completion fish > ~/.config/fish/completions/evalkeep.fish");
  cmd->callback([&app, &ctx, o] {
    ctx.run([&]() -> Status {
      fmt::print("{}", o->shell == "bash"  ? bash_completion(app)
                       : o->shell == "zsh" ? zsh_completion(app)
                                           : fish_completion(app));
      return {};
    });
  });

  // For the build and the docs: the man page and docs/COMMANDS.md.
  cmd = app.add_subcommand("help-man", "Print the man page (roff)")->group("");
  cmd->footer("Example:\n  evalkeep help-man > evalkeep.1");
  cmd->callback([&app] { fmt::print("{}", man_page(app)); });
  cmd = app.add_subcommand("help-markdown", "Print docs/COMMANDS.md")->group("");
  cmd->footer("Example:\n  evalkeep help-markdown > docs/COMMANDS.md");
  cmd->callback([&app] { fmt::print("{}\n", markdown(app)); });
}

} // namespace evalkeep::cli
