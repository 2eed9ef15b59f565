#include "interop/template.hpp"

#include "interop/template_filters.hpp"
#include "interop/template_values.hpp"

#include <cctype>
#include <cmath>
#include <memory>
#include <optional>

#include <re2/re2.h>

namespace evalkeep::interop {

using json = nlohmann::ordered_json;

namespace {

// Past these a template is refused rather than rendered: a template is data from a file, and
// nothing it says may make the import run without end or exhaust the stack.
constexpr std::size_t k_max_depth = 100;       // nested tags, and nested brackets in a tag
constexpr std::size_t k_max_steps = 2'000'000; // loop turns and evaluated expressions
constexpr std::size_t k_max_range = 100'000;   // elements range() makes
constexpr std::size_t k_max_tokens = 4'000;    // tokens in one tag

// ---------------------------------------------------------------------------------------------
// The template cut into text and tags.

struct Piece {
  enum class Kind { text, output, block };
  Kind kind = Kind::text;
  std::string text; // the text, or a tag's inside without delimiters, dashes and spaces
  int line = 1;
};

struct Pieces {
  std::vector<Piece> pieces;
  bool left_open = false; // a tag is never closed: promptfoo takes the text as it is
};

// The end of the tag that starts at `begin` (the index of its closing delimiter), skipping
// quoted strings as Nunjucks' lexer does; npos when it is never closed.
std::size_t tag_end(std::string_view text, std::size_t begin, char kind) {
  if (kind == '#')
    return text.find("#}", begin + 2);
  char close = kind == '{' ? '}' : '%';
  char quote = 0;
  for (std::size_t i = begin + 2; i + 1 < text.size() + 1 && i < text.size(); ++i) {
    char c = text[i];
    if (quote) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == close && i + 1 < text.size() && text[i + 1] == '}') {
      return i;
    }
  }
  return std::string_view::npos;
}

struct RawTag {
  std::size_t begin = 0, end = 0;
  std::string_view inner;
  bool trim_before = false, trim_after = false;
};

std::optional<RawTag> raw_tag_at(std::string_view text, std::size_t pos, char kind) {
  auto end = tag_end(text, pos, kind);
  if (end == std::string_view::npos)
    return std::nullopt;
  RawTag t;
  t.begin = pos;
  t.end = end + 2;
  t.inner = text.substr(pos + 2, end - pos - 2);
  if (!t.inner.empty() && t.inner.front() == '-') {
    t.trim_before = true;
    t.inner.remove_prefix(1);
  }
  if (!t.inner.empty() && t.inner.back() == '-') {
    t.trim_after = true;
    t.inner.remove_suffix(1);
  }
  t.inner = js::trim_end(js::trim_start(t.inner));
  return t;
}

Result<Pieces> cut(std::string_view text) {
  Pieces out;
  std::size_t pos = 0;
  int line = 1;
  std::size_t counted = 0;
  auto line_at = [&](std::size_t at) {
    for (; counted < at; ++counted)
      line += text[counted] == '\n';
    return line;
  };
  bool strip_next = false;
  auto add_text = [&](std::string_view t, bool strip_end) {
    if (strip_next)
      t = js::trim_start(t);
    if (strip_end)
      t = js::trim_end(t);
    strip_next = false;
    if (!t.empty())
      out.pieces.push_back({Piece::Kind::text, std::string(t), 0});
  };
  for (;;) {
    std::size_t at = pos;
    char kind = 0;
    for (at = text.find('{', at); at != std::string_view::npos; at = text.find('{', at + 1)) {
      if (at + 1 < text.size() &&
          (text[at + 1] == '{' || text[at + 1] == '%' || text[at + 1] == '#')) {
        kind = text[at + 1];
        break;
      }
    }
    if (at == std::string_view::npos) {
      add_text(text.substr(pos), false);
      return out;
    }
    auto tag = raw_tag_at(text, at, kind);
    if (!tag) {
      out.left_open = true;
      return out;
    }
    add_text(text.substr(pos, at - pos), tag->trim_before);
    strip_next = tag->trim_after;
    pos = tag->end;
    if (kind == '#')
      continue;
    int tag_line = line_at(at);
    if (kind == '%' && (tag->inner == "raw" || tag->inner == "verbatim")) {
      std::string closing = "end" + std::string(tag->inner);
      std::optional<RawTag> end;
      for (auto p = text.find("{%", pos); p != std::string_view::npos; p = text.find("{%", p + 2)) {
        end = raw_tag_at(text, p, '%');
        if (end && end->inner == closing)
          break;
        end.reset();
      }
      if (!end)
        return invalid("line {}: '{{% {} %}}' without '{{% {} %}}'", tag_line, tag->inner, closing);
      add_text(text.substr(pos, end->begin - pos), end->trim_before);
      strip_next = end->trim_after;
      pos = end->end;
      continue;
    }
    out.pieces.push_back({kind == '{' ? Piece::Kind::output : Piece::Kind::block,
                          std::string(tag->inner), tag_line});
  }
}

// ---------------------------------------------------------------------------------------------
// Expressions, parsed with Nunjucks' grammar (parser.js).

struct Token {
  enum class Kind { name, number, string, op, end };
  Kind kind = Kind::end;
  std::string text;
  json value;
};

Result<std::vector<Token>> lex(std::string_view s) {
  static constexpr std::string_view k_ops[] = {
      "===", "!==", "**", "//", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/",
      "%",   "~",   "(",  ")",  "[",  "]",  "{",  "}",  ",", ":", ".", "|", "="};
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '\'' || c == '"') {
      std::string str;
      std::size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (s[j] == '\\' && j + 1 < s.size()) {
          char e = s[++j];
          str += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
        } else {
          str += s[j];
        }
      }
      if (j >= s.size())
        return invalid("a string that is never closed");
      out.push_back({Token::Kind::string, std::string(s.substr(i, j + 1 - i)), str});
      i = j + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      std::size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j])))
        ++j;
      bool is_float =
          j + 1 < s.size() && s[j] == '.' && std::isdigit(static_cast<unsigned char>(s[j + 1]));
      if (is_float) {
        ++j;
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j])))
          ++j;
      }
      std::string t(s.substr(i, j - i));
      out.push_back({Token::Kind::number, t, js::number(std::strtod(t.c_str(), nullptr))});
      i = j;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$') {
      std::size_t j = i;
      while (j < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || s[j] == '$'))
        ++j;
      out.push_back({Token::Kind::name, std::string(s.substr(i, j - i)), {}});
      i = j;
    } else {
      bool matched = false;
      for (auto op : k_ops) {
        if (s.substr(i, op.size()) == op) {
          out.push_back({Token::Kind::op, std::string(op), {}});
          i += op.size();
          matched = true;
          break;
        }
      }
      if (!matched)
        return invalid("an unexpected character '{}'", c);
    }
  }
  // Operator chains and filter chains nest as deep as they are long: a bound on the tokens of
  // one tag bounds the recursion that evaluates and frees them.
  if (out.size() > k_max_tokens)
    return invalid("a tag of more than {} tokens", k_max_tokens);
  out.push_back({Token::Kind::end, "", {}});
  return out;
}

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    literal,
    name,
    member,
    call,
    filter,
    is,
    in,
    pow,
    floor_div,
    group,
    inline_if,
    array,
    dict,
    // Those below are emitted by Nunjucks as JavaScript operators without brackets, so
    // JavaScript's precedence, not the template's parse, decides how they group.
    or_,
    and_,
    not_,
    neg,
    pos,
    binary
  };
  Kind kind = Kind::literal;
  json value;       // a literal
  std::string name; // a variable, filter or test name, or an operator
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  bool negate = false; // `is not`
};

ExprPtr make(Expr::Kind kind, std::string name = {}) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->name = std::move(name);
  return e;
}

class ExprParser {
public:
  explicit ExprParser(std::vector<Token> tokens) : m_tokens(std::move(tokens)) {}

  Result<ExprPtr> expression() {
    if (++m_depth > k_max_depth)
      return invalid("an expression nested deeper than {} levels", k_max_depth);
    auto e = TRY(inline_if());
    --m_depth;
    return e;
  }

  const Token& peek() const { return m_tokens[m_pos]; }
  bool at_end() const { return peek().kind == Token::Kind::end; }
  bool skip_name(std::string_view n) {
    if (peek().kind == Token::Kind::name && peek().text == n) {
      ++m_pos;
      return true;
    }
    return false;
  }
  bool skip_op(std::string_view op) {
    if (peek().kind == Token::Kind::op && peek().text == op) {
      ++m_pos;
      return true;
    }
    return false;
  }
  Result<std::string> name() {
    if (peek().kind != Token::Kind::name)
      return invalid("expected a name, found '{}'", peek().text);
    return m_tokens[m_pos++].text;
  }

private:
  Result<ExprPtr> inline_if() {
    auto node = TRY(or_());
    if (skip_name("if")) {
      auto e = make(Expr::Kind::inline_if);
      auto cond = TRY(or_());
      e->args.push_back(std::move(cond));
      e->args.push_back(std::move(node));
      if (skip_name("else")) {
        auto other = TRY(or_());
        e->args.push_back(std::move(other));
      }
      return e;
    }
    return node;
  }
  Result<ExprPtr> binary_chain(Expr::Kind kind, std::string_view word,
                               Result<ExprPtr> (ExprParser::*next)()) {
    auto node = TRY((this->*next)());
    while (skip_name(word)) {
      auto e = make(kind);
      auto right = TRY((this->*next)());
      e->args.push_back(std::move(node));
      e->args.push_back(std::move(right));
      node = std::move(e);
    }
    return node;
  }
  Result<ExprPtr> or_() { return binary_chain(Expr::Kind::or_, "or", &ExprParser::and_); }
  Result<ExprPtr> and_() { return binary_chain(Expr::Kind::and_, "and", &ExprParser::not_); }
  Result<ExprPtr> not_() {
    if (skip_name("not")) {
      auto e = make(Expr::Kind::not_);
      TRY(guard());
      auto target = TRY(not_());
      --m_depth;
      e->args.push_back(std::move(target));
      return e;
    }
    return in();
  }
  Result<ExprPtr> in() {
    auto node = TRY(is());
    for (;;) {
      std::size_t save = m_pos;
      bool invert = skip_name("not");
      if (!skip_name("in")) {
        m_pos = save;
        return node;
      }
      auto e = make(Expr::Kind::in);
      auto right = TRY(is());
      e->args.push_back(std::move(node));
      e->args.push_back(std::move(right));
      node = std::move(e);
      if (invert) {
        auto n = make(Expr::Kind::not_);
        n->args.push_back(std::move(node));
        node = std::move(n);
      }
    }
  }
  Result<ExprPtr> is() {
    auto node = TRY(compare());
    if (skip_name("is")) {
      auto e = make(Expr::Kind::is);
      bool negate = skip_name("not");
      // The test is a name, a call of one, or none/null (nunjucks looks up the test "null").
      if (peek().kind != Token::Kind::name)
        return invalid("expected a test name after 'is', found '{}'", peek().text);
      e->name = m_tokens[m_pos++].text;
      if (e->name == "none")
        e->name = "null";
      e->args.push_back(std::move(node));
      if (skip_op("(")) {
        TRY(arguments(*e, ")"));
      }
      if (negate) {
        auto n = make(Expr::Kind::not_);
        n->args.push_back(std::move(e));
        return n;
      }
      return e;
    }
    return node;
  }
  Result<ExprPtr> compare() {
    static constexpr std::string_view k_ops[] = {"==", "===", "!=", "!==", "<", ">", "<=", ">="};
    auto node = TRY(concat());
    int count = 0;
    for (;;) {
      auto op = std::find(std::begin(k_ops), std::end(k_ops), peek().text);
      if (peek().kind != Token::Kind::op || op == std::end(k_ops))
        return node;
      if (++count > 1)
        return invalid("a chain of comparisons ('a < b < c'), which JavaScript would group "
                       "its own way");
      ++m_pos;
      auto e = make(Expr::Kind::binary, std::string(*op));
      auto right = TRY(concat());
      e->args.push_back(std::move(node));
      e->args.push_back(std::move(right));
      node = std::move(e);
    }
  }
  Result<ExprPtr> left_ops(std::string_view op, Result<ExprPtr> (ExprParser::*next)()) {
    auto node = TRY((this->*next)());
    while (skip_op(op)) {
      auto e = make(Expr::Kind::binary, std::string(op));
      auto right = TRY((this->*next)());
      e->args.push_back(std::move(node));
      e->args.push_back(std::move(right));
      node = std::move(e);
    }
    return node;
  }
  Result<ExprPtr> concat() { return left_ops("~", &ExprParser::add); }
  Result<ExprPtr> add() { return left_ops("+", &ExprParser::sub); }
  Result<ExprPtr> sub() { return left_ops("-", &ExprParser::mul); }
  Result<ExprPtr> mul() { return left_ops("*", &ExprParser::div); }
  Result<ExprPtr> div() { return left_ops("/", &ExprParser::floor_div); }
  Result<ExprPtr> floor_div() {
    auto node = TRY(mod());
    while (skip_op("//")) {
      auto e = make(Expr::Kind::floor_div);
      auto right = TRY(mod());
      e->args.push_back(std::move(node));
      e->args.push_back(std::move(right));
      node = std::move(e);
    }
    return node;
  }
  Result<ExprPtr> mod() { return left_ops("%", &ExprParser::pow); }
  Result<ExprPtr> pow() {
    auto node = TRY(unary(false));
    while (skip_op("**")) {
      auto e = make(Expr::Kind::pow);
      auto right = TRY(unary(false));
      e->args.push_back(std::move(node));
      e->args.push_back(std::move(right));
      node = std::move(e);
    }
    return node;
  }
  Result<ExprPtr> unary(bool no_filters) {
    ExprPtr node;
    if (peek().kind == Token::Kind::op && (peek().text == "-" || peek().text == "+")) {
      node = make(peek().text == "-" ? Expr::Kind::neg : Expr::Kind::pos);
      ++m_pos;
      TRY(guard());
      auto target = TRY(unary(true));
      --m_depth;
      node->args.push_back(std::move(target));
    } else {
      node = TRY(primary());
    }
    if (!no_filters)
      node = TRY(filters(std::move(node)));
    return node;
  }
  Result<ExprPtr> filters(ExprPtr node) {
    while (skip_op("|")) {
      auto e = make(Expr::Kind::filter, TRY(name()));
      while (skip_op("."))
        e->name += "." + TRY(name());
      e->args.push_back(std::move(node));
      if (skip_op("("))
        TRY(arguments(*e, ")"));
      node = std::move(e);
    }
    return node;
  }
  // Arguments up to `close`, positional then keyword (NAME=value).
  Status arguments(Expr& e, std::string_view close) {
    TRY(guard());
    while (!skip_op(close)) {
      if (at_end())
        return invalid("expected '{}'", close);
      if (peek().kind == Token::Kind::name && m_tokens[m_pos + 1].kind == Token::Kind::op &&
          m_tokens[m_pos + 1].text == "=") {
        std::string key = m_tokens[m_pos].text;
        m_pos += 2;
        auto v = TRY(expression());
        e.kwargs.emplace_back(std::move(key), std::move(v));
      } else {
        if (!e.kwargs.empty())
          return invalid("a positional argument after a keyword argument");
        auto v = TRY(expression());
        e.args.push_back(std::move(v));
      }
      if (!skip_op(",") && !(peek().kind == Token::Kind::op && peek().text == close))
        return invalid("expected ',' or '{}', found '{}'", close, peek().text);
    }
    --m_depth;
    return {};
  }
  Status guard() {
    if (++m_depth > k_max_depth)
      return invalid("an expression nested deeper than {} levels", k_max_depth);
    return {};
  }
  Result<ExprPtr> primary() {
    const Token& t = peek();
    ExprPtr node;
    if (t.kind == Token::Kind::end) {
      return invalid("expected an expression, found the end of the tag");
    } else if (t.kind == Token::Kind::string || t.kind == Token::Kind::number) {
      node = make(Expr::Kind::literal);
      node->value = t.value;
      ++m_pos;
    } else if (t.kind == Token::Kind::name) {
      ++m_pos;
      if (t.text == "true" || t.text == "false") {
        node = make(Expr::Kind::literal);
        node->value = t.text == "true";
      } else if (t.text == "none" || t.text == "null") {
        node = make(Expr::Kind::literal);
        node->value = nullptr;
      } else {
        node = make(Expr::Kind::name, t.text);
      }
    } else if (skip_op("(")) {
      node = TRY(aggregate(")"));
      if (node->args.size() == 1 && !node->value.get<bool>()) {
        auto g = make(Expr::Kind::group);
        g->args.push_back(std::move(node->args[0]));
        node = std::move(g);
      } else {
        node->kind = Expr::Kind::array; // (a, b) is a list in Nunjucks
      }
    } else if (skip_op("[")) {
      node = TRY(aggregate("]"));
      node->kind = Expr::Kind::array;
    } else if (skip_op("{")) {
      node = make(Expr::Kind::dict);
      TRY(guard());
      while (!skip_op("}")) {
        auto key = make(Expr::Kind::literal);
        if (peek().kind == Token::Kind::name || peek().kind == Token::Kind::string)
          key->value = peek().kind == Token::Kind::name ? json(peek().text) : peek().value;
        else
          return invalid("a dict key must be a name or a string, found '{}'", peek().text);
        ++m_pos;
        if (!skip_op(":"))
          return invalid("expected ':' after a dict key");
        auto v = TRY(expression());
        node->args.push_back(std::move(key));
        node->args.push_back(std::move(v));
        if (!skip_op(",") && !(peek().kind == Token::Kind::op && peek().text == "}"))
          return invalid("expected ',' or '}}' in a dict, found '{}'", peek().text);
      }
      --m_depth;
    } else {
      return invalid("unexpected '{}'", t.text);
    }
    return postfix(std::move(node));
  }
  // Elements up to `close`; value is true when a comma was seen.
  Result<ExprPtr> aggregate(std::string_view close) {
    auto node = make(Expr::Kind::array);
    node->value = false;
    TRY(guard());
    while (!skip_op(close)) {
      if (at_end())
        return invalid("expected '{}'", close);
      auto v = TRY(expression());
      node->args.push_back(std::move(v));
      if (skip_op(","))
        node->value = true;
      else if (!(peek().kind == Token::Kind::op && peek().text == close))
        return invalid("expected ',' or '{}', found '{}'", close, peek().text);
    }
    --m_depth;
    return node;
  }
  Result<ExprPtr> postfix(ExprPtr node) {
    for (;;) {
      if (skip_op("(")) {
        auto e = make(Expr::Kind::call);
        e->args.push_back(std::move(node));
        TRY(arguments(*e, ")"));
        node = std::move(e);
      } else if (skip_op("[")) {
        auto index = TRY(aggregate("]"));
        if (index->args.size() != 1)
          return invalid("an index must be one expression");
        auto e = make(Expr::Kind::member);
        e->args.push_back(std::move(node));
        e->args.push_back(std::move(index->args[0]));
        node = std::move(e);
      } else if (skip_op(".")) {
        auto key = make(Expr::Kind::literal);
        if (peek().kind == Token::Kind::number)
          key->value = peek().value;
        else if (peek().kind == Token::Kind::name)
          key->value = peek().text;
        else
          return invalid("expected a name after '.', found '{}'", peek().text);
        ++m_pos;
        auto e = make(Expr::Kind::member);
        e->args.push_back(std::move(node));
        e->args.push_back(std::move(key));
        node = std::move(e);
      } else {
        return node;
      }
    }
  }

  std::vector<Token> m_tokens;
  std::size_t m_pos = 0;
  std::size_t m_depth = 0;
};

Result<ExprPtr> parse_expression(std::string_view text) {
  ExprParser p(TRY(lex(text)));
  auto e = TRY(p.expression());
  if (!p.at_end())
    return invalid("unexpected '{}'", p.peek().text);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Statements.

struct Node;
using Body = std::vector<Node>;

struct Node {
  enum class Kind { text, output, if_, for_, set, set_block };
  Kind kind = Kind::text;
  std::string text;
  int line = 0;
  ExprPtr expr;                                   // output, for's list, set's value
  std::vector<std::pair<ExprPtr, Body>> branches; // if / elif
  Body body, else_body;                           // for, set block; else of if and for
  std::vector<std::string> names;                 // for's loop variables, set's targets
};

// A tag's text as an error shows it: a long one cut short.
std::string shown(std::string_view text) {
  if (text.size() <= 80)
    return std::string(text);
  std::size_t cut = 77;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  return std::string(text.substr(0, cut)) + "...";
}

// The first word of a block tag and the rest.
std::pair<std::string_view, std::string_view> tag_word(std::string_view inner) {
  std::size_t i = 0;
  while (i < inner.size() &&
         (std::isalnum(static_cast<unsigned char>(inner[i])) || inner[i] == '_'))
    ++i;
  return {inner.substr(0, i), js::trim_start(inner.substr(i))};
}

class TemplateParser {
public:
  explicit TemplateParser(std::vector<Piece> pieces) : m_pieces(std::move(pieces)) {}

  Result<Body> parse() {
    auto body = TRY(parse_body({}));
    if (m_pos < m_pieces.size())
      return invalid("line {}: '{{% {} %}}' has no block to close", m_pieces[m_pos].line,
                     shown(m_pieces[m_pos].text));
    return body;
  }

private:
  static std::unexpected<Error> where(const Piece& p, const Error& e) {
    return invalid("line {}: '{}{}{}': {}", p.line, p.kind == Piece::Kind::output ? "{{ " : "{% ",
                   shown(p.text), p.kind == Piece::Kind::output ? " }}" : " %}", e.message);
  }

  // Pieces up to one of the block tags in `stops` (left unconsumed), or the end.
  Result<Body> parse_body(std::initializer_list<std::string_view> stops) {
    if (++m_depth > k_max_depth)
      return invalid("tags nested deeper than {} levels", k_max_depth);
    Body body;
    while (m_pos < m_pieces.size()) {
      const Piece& p = m_pieces[m_pos];
      if (p.kind == Piece::Kind::text) {
        body.push_back({Node::Kind::text, p.text, p.line, {}, {}, {}, {}, {}});
        ++m_pos;
        continue;
      }
      if (p.kind == Piece::Kind::output) {
        Node n{Node::Kind::output, p.text, p.line, {}, {}, {}, {}, {}};
        auto e = parse_expression(p.text);
        if (!e)
          return where(p, e.error());
        n.expr = std::move(*e);
        body.push_back(std::move(n));
        ++m_pos;
        continue;
      }
      auto [word, rest] = tag_word(p.text);
      if (std::find(stops.begin(), stops.end(), word) != stops.end())
        break;
      auto node = statement(p, word, rest);
      if (!node)
        return std::unexpected(node.error());
      body.push_back(std::move(*node));
    }
    --m_depth;
    return body;
  }

  // The tag that ended a body: one of `stops`, else an error naming what is missing.
  Result<std::string_view> closing(const Piece& open, std::string_view expected) {
    if (m_pos >= m_pieces.size())
      return invalid("line {}: '{{% {} %}}' without '{{% {} %}}'", open.line, shown(open.text),
                     expected);
    return tag_word(m_pieces[m_pos].text).first;
  }

  Result<Node> statement(const Piece& p, std::string_view word, std::string_view rest) {
    const Piece open = p;
    ++m_pos;
    if (word == "if") {
      Node n{Node::Kind::if_, p.text, p.line, {}, {}, {}, {}, {}};
      std::string_view cond = rest;
      const Piece* at = &open;
      for (;;) {
        auto e = parse_expression(cond);
        if (!e)
          return where(*at, e.error());
        auto body = TRY(parse_body({"elif", "elseif", "else", "endif"}));
        n.branches.emplace_back(std::move(*e), std::move(body));
        auto stop = TRY(closing(open, "endif"));
        at = &m_pieces[m_pos];
        ++m_pos;
        if (stop == "elif" || stop == "elseif") {
          cond = tag_word(at->text).second;
          continue;
        }
        if (stop == "else") {
          n.else_body = TRY(parse_body({"endif"}));
          TRY(closing(open, "endif"));
          ++m_pos;
        }
        return n;
      }
    }
    if (word == "for") {
      Node n{Node::Kind::for_, p.text, p.line, {}, {}, {}, {}, {}};
      auto parsed = [&]() -> Status {
        ExprParser head(TRY(lex(rest)));
        n.names.push_back(TRY(head.name()));
        while (head.skip_op(","))
          n.names.push_back(TRY(head.name()));
        if (n.names.size() > 2)
          return invalid("more than two loop variables");
        if (!head.skip_name("in"))
          return invalid("expected 'in'");
        n.expr = TRY(head.expression());
        if (!head.at_end())
          return invalid("unexpected '{}'", head.peek().text);
        return {};
      }();
      if (!parsed)
        return where(open, parsed.error());
      n.body = TRY(parse_body({"else", "endfor"}));
      auto stop = TRY(closing(open, "endfor"));
      ++m_pos;
      if (stop == "else") {
        n.else_body = TRY(parse_body({"endfor"}));
        TRY(closing(open, "endfor"));
        ++m_pos;
      }
      return n;
    }
    if (word == "set") {
      Node n{Node::Kind::set, p.text, p.line, {}, {}, {}, {}, {}};
      auto parsed = [&]() -> Status {
        ExprParser head(TRY(lex(rest)));
        n.names.push_back(TRY(head.name()));
        while (head.skip_op(","))
          n.names.push_back(TRY(head.name()));
        if (head.skip_op("=")) {
          n.expr = TRY(head.expression());
        } else {
          n.kind = Node::Kind::set_block;
        }
        if (!head.at_end())
          return invalid("unexpected '{}'", head.peek().text);
        return {};
      }();
      if (!parsed)
        return where(open, parsed.error());
      if (n.kind == Node::Kind::set_block) {
        n.body = TRY(parse_body({"endset"}));
        TRY(closing(open, "endset"));
        ++m_pos;
      }
      return n;
    }
    static constexpr std::string_view k_ends[] = {"endif",  "endfor", "endset", "elif",
                                                  "elseif", "else",   "endraw", "endverbatim"};
    if (std::find(std::begin(k_ends), std::end(k_ends), word) != std::end(k_ends))
      return invalid("line {}: '{{% {} %}}' has no block to close", p.line, shown(p.text));
    return invalid("line {}: the template tag '{{% {} %}}' is not supported", p.line,
                   shown(p.text));
  }

  std::vector<Piece> m_pieces;
  std::size_t m_pos = 0;
  std::size_t m_depth = 0;
};

// ---------------------------------------------------------------------------------------------
// Rendering.

// A value made by the template stays small and shallow enough to print without exhausting the
// stack or memory.
Status measure(const json& v, std::size_t depth, std::size_t& weight) {
  if (depth > k_max_depth)
    return invalid("a value nested deeper than {} levels", k_max_depth);
  weight += v.is_string() ? v.get_ref<const std::string&>().size() + 1 : 1;
  if (weight > k_max_text)
    return invalid("a value longer than {} bytes", k_max_text);
  if (v.is_structured())
    for (const auto& e : v)
      TRY(measure(e, depth + 1, weight));
  return {};
}

Result<json> checked(json v) {
  std::size_t weight = 0;
  TRY(measure(v, 0, weight));
  return v;
}

// The property `key` of `obj`, as Nunjucks' memberLookup reads it.
Result<json> member(const json& obj, const json& key) {
  if (js::is_nullish(obj))
    return js::undefined();
  std::optional<std::size_t> index;
  std::string name;
  if (key.is_number()) {
    double d = key.get<double>();
    if (d >= 0 && std::floor(d) == d && d < 1e15)
      index = static_cast<std::size_t>(d);
    name = js::to_string(key);
  } else {
    name = js::to_string(key);
    if (!name.empty() && name.size() < 15 &&
        std::all_of(name.begin(), name.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
        (name == "0" || name[0] != '0'))
      index = std::stoull(name);
  }
  if (obj.is_array()) {
    if (name == "length")
      return obj.size();
    return index && *index < obj.size() ? obj[*index] : js::undefined();
  }
  if (obj.is_string()) {
    auto units = TRY(js::utf16(obj.get_ref<const std::string&>()));
    if (name == "length")
      return units.size();
    if (!index || *index >= units.size())
      return js::undefined();
    char16_t u = units[*index];
    if (u >= 0xD800 && u < 0xE000)
      return invalid("indexes text outside Unicode's basic plane");
    return js::utf8(std::u16string(1, u));
  }
  if (obj.is_object())
    return obj.contains(name) ? obj[name] : js::undefined();
  return js::undefined();
}

// A flattened run of JavaScript operators and operands, and the tree JavaScript parses from it.
struct FlatToken {
  const Expr* atom = nullptr;
  std::optional<json> literal;
  std::string op;
  bool prefix = false;
};

struct JsNode {
  const FlatToken* leaf = nullptr;
  std::string op;
  bool unary = false;
  std::unique_ptr<JsNode> left, right;
};

int precedence(std::string_view op) {
  if (op == "||")
    return 1;
  if (op == "&&")
    return 2;
  if (op == "==" || op == "!=" || op == "===" || op == "!==")
    return 3;
  if (op == "<" || op == ">" || op == "<=" || op == ">=")
    return 4;
  if (op == "+" || op == "-")
    return 5;
  return 6; // * / %
}

class Renderer {
public:
  explicit Renderer(const json& vars) : m_vars(vars) { m_frames.push_back(json::object()); }

  Status render(const Body& body, std::string& out) {
    for (const Node& n : body) {
      TRY(step());
      switch (n.kind) {
      case Node::Kind::text:
        TRY(append(out, n.text));
        break;
      case Node::Kind::output: {
        auto v = eval(*n.expr);
        if (!v)
          return at(n, v.error());
        if (!js::is_nullish(*v))
          TRY(append(out, js_string(*v)));
        break;
      }
      case Node::Kind::if_: {
        bool done = false;
        for (const auto& [cond, branch] : n.branches) {
          auto c = eval(*cond);
          if (!c)
            return at(n, c.error());
          if (js::truthy(*c)) {
            TRY(render(branch, out));
            done = true;
            break;
          }
        }
        if (!done)
          TRY(render(n.else_body, out));
        break;
      }
      case Node::Kind::for_: {
        auto list = eval(*n.expr);
        if (!list)
          return at(n, list.error());
        auto s = loop(n, *list, out);
        if (!s)
          return at(n, s.error());
        break;
      }
      case Node::Kind::set: {
        auto v = eval(*n.expr);
        if (!v)
          return at(n, v.error());
        auto c = checked(std::move(*v));
        if (!c)
          return at(n, c.error());
        for (const auto& name : n.names)
          assign(name, *c);
        break;
      }
      case Node::Kind::set_block: {
        std::string captured;
        TRY(render(n.body, captured));
        for (const auto& name : n.names)
          assign(name, captured);
        break;
      }
      }
    }
    return {};
  }

private:
  static std::unexpected<Error> at(const Node& n, const Error& e) {
    if (e.message.starts_with("line "))
      return std::unexpected(e);
    if (n.kind == Node::Kind::output)
      return invalid("line {}: '{{{{ {} }}}}': {}", n.line, shown(n.text), e.message);
    return invalid("line {}: '{{% {} %}}': {}", n.line, shown(n.text), e.message);
  }

  Status step() {
    if (++m_steps > k_max_steps)
      return invalid("the template takes more than {} steps to render", k_max_steps);
    return {};
  }

  static Status append(std::string& out, std::string_view s) {
    if (out.size() + s.size() > k_max_text)
      return invalid("the template renders to text longer than {} bytes", k_max_text);
    out.append(s);
    return {};
  }

  // Nunjucks' for tag (compiler.js compileFor): the list is read once; a falsy value or one
  // without a length runs the else block.
  Status loop(const Node& n, const json& list, std::string& out) {
    m_frames.push_back(json::object());
    std::size_t length = 0;
    auto bind_loop = [&](std::size_t i) {
      m_frames.back()["loop"] = {{"index", i + 1},         {"index0", i},
                                 {"revindex", length - i}, {"revindex0", length - i - 1},
                                 {"first", i == 0},        {"last", i == length - 1},
                                 {"length", length}};
    };
    Status s;
    if (js::truthy(list)) {
      if (n.names.size() == 2 && list.is_object()) {
        length = list.size();
        std::size_t i = 0;
        for (auto it = list.begin(); s && it != list.end(); ++it, ++i) {
          m_frames.back()[n.names[0]] = it.key();
          m_frames.back()[n.names[1]] = it.value();
          bind_loop(i);
          s = step();
          if (s)
            s = render(n.body, out);
        }
      } else if (n.names.size() == 2 && !list.is_array()) {
        s = invalid("unpacks two loop variables from {}", list.type_name());
      } else if (list.is_array() || list.is_string()) {
        std::vector<json> items;
        if (list.is_array()) {
          items.assign(list.begin(), list.end());
        } else {
          auto chars = apply_filter("list", list, {}, {});
          if (!chars)
            s = std::unexpected(chars.error());
          else
            items.assign(chars->begin(), chars->end());
        }
        length = items.size();
        for (std::size_t i = 0; s && i < items.size(); ++i) {
          if (n.names.size() == 2) {
            if (js::is_nullish(items[i])) {
              s = invalid("unpacks two loop variables from an undefined element");
              break;
            }
            auto k = member(items[i], 0);
            auto v = member(items[i], 1);
            if (!k || !v) {
              s = std::unexpected(k ? v.error() : k.error());
              break;
            }
            m_frames.back()[n.names[0]] = *k;
            m_frames.back()[n.names[1]] = *v;
          } else {
            m_frames.back()[n.names[0]] = items[i];
          }
          bind_loop(i);
          s = step();
          if (s)
            s = render(n.body, out);
        }
      }
    }
    if (s && length == 0)
      s = render(n.else_body, out);
    m_frames.pop_back();
    return s;
  }

  Result<json> lookup(const std::string& name) const {
    for (auto it = m_frames.rbegin(); it != m_frames.rend(); ++it)
      if (it->contains(name) && !js::is_undefined((*it)[name]))
        return (*it)[name];
    if (m_vars.is_object() && m_vars.contains(name))
      return m_vars[name];
    if (name == "env")
      return invalid("'env' reads the environment, which an import does not copy");
    return js::undefined();
  }

  // Nunjucks' frame.set(name, value, true): the innermost frame that has the name, else this one.
  void assign(const std::string& name, const json& v) {
    for (auto it = m_frames.rbegin(); it != m_frames.rend(); ++it)
      if (it->contains(name) && !js::is_undefined((*it)[name])) {
        (*it)[name] = v;
        return;
      }
    m_frames.back()[name] = v;
  }

  static bool flat(const Expr& e) {
    switch (e.kind) {
    case Expr::Kind::or_:
    case Expr::Kind::and_:
    case Expr::Kind::not_:
    case Expr::Kind::neg:
    case Expr::Kind::pos:
    case Expr::Kind::binary:
      return true;
    default:
      return false;
    }
  }

  // The tokens compiler.js emits for `e`.
  static void flatten(const Expr& e, std::vector<FlatToken>& out) {
    switch (e.kind) {
    case Expr::Kind::or_:
    case Expr::Kind::and_:
      flatten(*e.args[0], out);
      out.push_back({nullptr, std::nullopt, e.kind == Expr::Kind::or_ ? "||" : "&&", false});
      flatten(*e.args[1], out);
      return;
    case Expr::Kind::not_:
    case Expr::Kind::neg:
    case Expr::Kind::pos:
      out.push_back({nullptr, std::nullopt,
                     e.kind == Expr::Kind::not_  ? "!"
                     : e.kind == Expr::Kind::neg ? "-"
                                                 : "+",
                     true});
      flatten(*e.args[0], out);
      return;
    case Expr::Kind::binary:
      flatten(*e.args[0], out);
      if (e.name == "~") {
        // compileConcat: left + "" + right
        out.push_back({nullptr, std::nullopt, "+", false});
        out.push_back({nullptr, json(""), "", false});
        out.push_back({nullptr, std::nullopt, "+", false});
      } else {
        out.push_back({nullptr, std::nullopt, e.name, false});
      }
      flatten(*e.args[1], out);
      return;
    default:
      out.push_back({&e, std::nullopt, "", false});
    }
  }

  static std::unique_ptr<JsNode> js_unary(const std::vector<FlatToken>& toks, std::size_t& i) {
    auto n = std::make_unique<JsNode>();
    if (toks[i].prefix) {
      n->op = toks[i++].op;
      n->unary = true;
      n->left = js_unary(toks, i);
    } else {
      n->leaf = &toks[i++];
    }
    return n;
  }

  static std::unique_ptr<JsNode> js_binary(const std::vector<FlatToken>& toks, std::size_t& i,
                                           int min) {
    auto left = js_unary(toks, i);
    while (i < toks.size() && precedence(toks[i].op) >= min) {
      std::string op = toks[i++].op;
      auto right = js_binary(toks, i, precedence(op) + 1);
      auto n = std::make_unique<JsNode>();
      n->op = op;
      n->left = std::move(left);
      n->right = std::move(right);
      left = std::move(n);
    }
    return left;
  }

  Result<json> js_eval(const JsNode& n) {
    if (n.leaf)
      return n.leaf->literal ? *n.leaf->literal : eval(*n.leaf->atom);
    auto l = TRY(js_eval(*n.left));
    if (n.unary) {
      if (n.op == "!")
        return !js::truthy(l);
      double d = js::to_number(l);
      return js::number(n.op == "-" ? -d : d);
    }
    if (n.op == "||")
      return js::truthy(l) ? l : js_eval(*n.right);
    if (n.op == "&&")
      return !js::truthy(l) ? l : js_eval(*n.right);
    auto r = TRY(js_eval(*n.right));
    if (n.op == "==")
      return js::loose_equal(l, r);
    if (n.op == "!=")
      return TRY(js::loose_equal(l, r)) ? false : true;
    if (n.op == "===")
      return js::strict_equal(l, r);
    if (n.op == "!==")
      return TRY(js::strict_equal(l, r)) ? false : true;
    if (n.op == "<" || n.op == ">" || n.op == "<=" || n.op == ">=")
      return js::relational(l, r, n.op);
    if (n.op == "+") {
      json sum = js::add(l, r);
      if (sum.is_string() && sum.get_ref<const std::string&>().size() > k_max_text)
        return invalid("'+' makes text longer than {} bytes", k_max_text);
      return sum;
    }
    double x = js::to_number(l), y = js::to_number(r);
    if (n.op == "-")
      return js::number(x - y);
    if (n.op == "*")
      return js::number(x * y);
    if (n.op == "/")
      return js::number(x / y);
    return js::number(std::fmod(x, y)); // %
  }

  Result<json> eval_flat(const std::vector<FlatToken>& toks) {
    std::size_t i = 0;
    auto tree = js_binary(toks, i, 1);
    return js_eval(*tree);
  }

  Result<json> eval(const Expr& e) {
    TRY(step());
    if (flat(e)) {
      std::vector<FlatToken> toks;
      flatten(e, toks);
      return eval_flat(toks);
    }
    switch (e.kind) {
    case Expr::Kind::literal:
      return e.value;
    case Expr::Kind::name:
      return lookup(e.name);
    case Expr::Kind::member: {
      auto obj = TRY(eval(*e.args[0]));
      auto key = TRY(eval(*e.args[1]));
      return member(obj, key);
    }
    case Expr::Kind::call: {
      const Expr& callee = *e.args[0];
      bool is_range = callee.kind == Expr::Kind::name && callee.name == "range" &&
                      js::is_undefined(TRY(lookup("range")));
      if (!is_range || !e.kwargs.empty()) {
        std::string what = callee.kind == Expr::Kind::name     ? callee.name
                           : callee.kind == Expr::Kind::member ? "a method"
                                                               : "a value";
        return invalid("calls {}{}{}, which evalkeep does not render",
                       callee.kind == Expr::Kind::name ? "'" : "", what,
                       callee.kind == Expr::Kind::name ? "()'" : "");
      }
      std::vector<double> a;
      for (std::size_t i = 1; i < e.args.size(); ++i)
        a.push_back(js::to_number(TRY(eval(*e.args[i]))));
      // range(stop) or range(start, stop, step), as nunjucks' globals.js.
      double start = 0, stop = 0, step = 1;
      if (a.size() == 1) {
        stop = a[0];
      } else if (a.size() >= 2) {
        start = a[0];
        stop = a[1];
        if (a.size() >= 3)
          step = a[2];
      }
      json out = json::array();
      for (double i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (out.size() >= k_max_range || step == 0 || std::isnan(step))
          return invalid("range() of more than {} numbers", k_max_range);
        out.push_back(js::number(i));
      }
      return out;
    }
    case Expr::Kind::filter: {
      auto input = TRY(eval(*e.args[0]));
      std::vector<json> args;
      for (std::size_t i = 1; i < e.args.size(); ++i)
        args.push_back(TRY(eval(*e.args[i])));
      KeywordArgs kwargs;
      for (const auto& [k, v] : e.kwargs)
        kwargs.emplace_back(k, TRY(eval(*v)));
      return checked(TRY(apply_filter(e.name, input, args, kwargs)));
    }
    case Expr::Kind::is: {
      auto input = TRY(eval(*e.args[0]));
      std::vector<json> args;
      for (std::size_t i = 1; i < e.args.size(); ++i)
        args.push_back(TRY(eval(*e.args[i])));
      if (!e.kwargs.empty())
        return invalid("the test '{}' with keyword arguments", e.name);
      return apply_test(e.name, input, args);
    }
    case Expr::Kind::in: {
      auto key = TRY(eval(*e.args[0]));
      auto in = TRY(eval(*e.args[1]));
      if (in.is_array()) {
        for (const auto& v : in) {
          if (!key.is_structured() && v.is_structured())
            continue;
          if (TRY(js::strict_equal(key, v)))
            return true;
        }
        return false;
      }
      if (in.is_string())
        return in.get_ref<const std::string&>().find(js::to_string(key)) != std::string::npos;
      if (in.is_object())
        return in.contains(js::to_string(key));
      return invalid("'in' looks in {}, which is not a list, text or an object",
                     js::is_undefined(in) ? "an undefined value" : in.type_name());
    }
    case Expr::Kind::pow: {
      auto l = TRY(eval(*e.args[0]));
      auto r = TRY(eval(*e.args[1]));
      return js::number(std::pow(js::to_number(l), js::to_number(r)));
    }
    case Expr::Kind::floor_div: {
      // Math.floor(L / R): the operators of L and R group as JavaScript reads them there.
      std::vector<FlatToken> toks;
      flatten(*e.args[0], toks);
      toks.push_back({nullptr, std::nullopt, "/", false});
      flatten(*e.args[1], toks);
      auto q = TRY(eval_flat(toks));
      return js::number(std::floor(js::to_number(q)));
    }
    case Expr::Kind::group:
      return eval(*e.args[0]);
    case Expr::Kind::inline_if: {
      auto c = TRY(eval(*e.args[0]));
      if (js::truthy(c))
        return eval(*e.args[1]);
      return e.args.size() > 2 ? eval(*e.args[2]) : json("");
    }
    case Expr::Kind::array: {
      json out = json::array();
      for (const auto& a : e.args)
        out.push_back(TRY(eval(*a)));
      return checked(std::move(out));
    }
    case Expr::Kind::dict: {
      json out = json::object();
      for (std::size_t i = 0; i + 1 < e.args.size(); i += 2)
        out[js::to_string(e.args[i]->value)] = TRY(eval(*e.args[i + 1]));
      js::own_order(out);
      return checked(std::move(out));
    }
    default:
      return invalid("an expression evalkeep cannot evaluate");
    }
  }

  const json& m_vars;
  std::vector<json> m_frames; // the innermost last
  std::size_t m_steps = 0;
};

} // namespace

Result<std::string> render_template(std::string_view text, const json& vars) {
  auto pieces = TRY(cut(text));
  // promptfoo takes a text with a tag left open as it is, rather than failing on it.
  if (pieces.left_open)
    return std::string(text);
  TemplateParser parser(std::move(pieces.pieces));
  auto body = TRY(parser.parse());
  // The vars' objects as promptfoo's JavaScript holds them: array-index keys first.
  std::optional<json> ordered;
  if (js::needs_own_order(vars)) {
    ordered = vars;
    js::own_order(*ordered);
  }
  Renderer renderer(ordered ? *ordered : vars);
  std::string out;
  TRY(renderer.render(body, out));
  return out;
}

std::string js_string(const json& v) {
  switch (v.type()) {
  case json::value_t::null:
  case json::value_t::discarded:
    return "";
  case json::value_t::string:
    return v.get<std::string>();
  case json::value_t::boolean:
    return v.get<bool>() ? "true" : "false";
  case json::value_t::number_float:
    return js::number_text(v.get<double>());
  case json::value_t::array: {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i)
      out += (i ? "," : "") + js_string(v[i]);
    return out;
  }
  case json::value_t::object:
    return "[object Object]";
  case json::value_t::number_integer:
  case json::value_t::number_unsigned: {
    // Past 2^53 JavaScript holds the nearest double.
    constexpr std::uint64_t k_exact = std::uint64_t{1} << 53;
    bool exact = v.is_number_unsigned()
                     ? v.get<std::uint64_t>() <= k_exact
                     : v.get<std::int64_t>() <= static_cast<std::int64_t>(k_exact) &&
                           v.get<std::int64_t>() >= -static_cast<std::int64_t>(k_exact);
    return exact ? v.dump() : js::number_text(v.get<double>());
  }
  default:
    return v.dump();
  }
}

std::string js_string(const nlohmann::json& v) {
  return js_string(json(v));
}

std::vector<std::string> template_variables(std::string_view text) {
  // promptfoo's own scan (extractVariablesFromTemplate): it decides which vars it renders, so the
  // same scan, not a parse, says what it will do. RE2 runs it in linear time without recursion:
  // std::regex overflowed the stack on a long comment.
  // Bytes, not UTF-8: text that is not UTF-8 is scanned like any other.
  static const RE2::Options k_bytes = [] {
    RE2::Options o;
    o.set_encoding(RE2::Options::EncodingLatin1);
    return o;
  }();
  static const RE2 k_comment(R"(\{#[\s\S]*?#\})", k_bytes);
  static const RE2 k_reference(
      R"(\{\{[\s]*([^{}\s|]+)[\s]*(?:\|[^}]+)?\}\}|\{%[\s]*(?:if|for)[\s]+([^{}\s]+)[\s]*.*?%\})",
      k_bytes);
  static const RE2 k_root(R"(^([A-Za-z_]\w*))", k_bytes);
  std::string t(text);
  RE2::GlobalReplace(&t, k_comment, "");
  std::vector<std::string> names;
  re2::StringPiece rest(t), groups[3];
  while (!rest.empty() && k_reference.Match(rest, 0, rest.size(), RE2::UNANCHORED, groups, 3)) {
    auto variable = groups[1].data() ? groups[1] : groups[2];
    std::string root;
    if (RE2::PartialMatch(variable, k_root, &root))
      names.push_back(root);
    // Past the match; an empty one cannot happen (each alternative starts with two characters).
    rest.remove_prefix(static_cast<std::size_t>(groups[0].data() + groups[0].size() - rest.data()));
  }
  return names;
}

std::string literal_template(std::string_view text) {
  bool syntax = text.find("{{") != std::string_view::npos ||
                text.find("{%") != std::string_view::npos ||
                text.find("{#") != std::string_view::npos;
  if (!syntax)
    return std::string(text);
  if (text.find("endraw") != std::string_view::npos || text.ends_with('{'))
    return {};
  return fmt::format("{{% raw %}}{}{{% endraw %}}", text);
}

} // namespace evalkeep::interop
