// Unit tests of the template interpreter that the Jinja goldens cannot express: error reports
// (what and which line), resource limits on hostile templates, the ChatML fallback, dates.
// Construct-by-construct output is checked against real Jinja in template_golden_test.cpp.
#include "smol/chat_template.h"

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace smol::chat {
namespace {

Result<std::string> render(const std::string& source, const Json& context = Json::object(),
                           RenderOptions options = {}) {
  auto t = Template::parse(source);
  if (!t) return Error{t.error()};
  return t->render(context, options);
}

std::string parse_error(const std::string& source) {
  auto t = Template::parse(source);
  EXPECT_FALSE(t.ok()) << "parsed: " << source;
  return t.ok() ? "" : t.error();
}

std::string render_error(const std::string& source, const Json& context = Json::object(),
                         RenderOptions options = {}) {
  auto r = render(source, context, options);
  EXPECT_FALSE(r.ok()) << "rendered: " << (r.ok() ? *r : "");
  return r.ok() ? "" : r.error();
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

TEST(TemplateErrors, UnsupportedTagNamesConstructAndLine) {
  std::string e = parse_error("line one\n{% if x %}\n  {% include 'other.jinja' %}\n{% endif %}");
  EXPECT_HAS(e, "line 3");
  EXPECT_HAS(e, "unsupported tag 'include'");
  EXPECT_HAS(parse_error("{% extends 'base' %}"), "unsupported tag 'extends'");
  EXPECT_HAS(parse_error("\n\n{% frobnicate %}"), "line 3: unknown tag 'frobnicate'");
}

TEST(TemplateErrors, UnknownFilterAndTestAreLoadTimeErrors) {
  EXPECT_HAS(parse_error("a\n{{ x | wordwrap(3) }}"), "line 2: unsupported filter 'wordwrap'");
  EXPECT_HAS(parse_error("{% if x is prime %}{% endif %}"), "unsupported test 'prime'");
  // ...also inside macros, call arguments, dict literals and for-loop conditions.
  EXPECT_HAS(parse_error("{% macro m(a=1|nope) %}{% endmacro %}"), "'nope'");
  EXPECT_HAS(parse_error("{{ f({'k': v|nope}) }}"), "'nope'");
  EXPECT_HAS(parse_error("{% for x in y if x is nope %}{% endfor %}"), "'nope'");
}

TEST(TemplateErrors, UnclosedAndStrayBlocks) {
  EXPECT_HAS(parse_error("x\n{% if a %}\nbody"), "line 2: 'if' opened here is never closed");
  EXPECT_HAS(parse_error("{% for a in b %}x"), "missing {% endfor %}");
  EXPECT_HAS(parse_error("a\n{% endfor %}"), "line 2: unexpected 'endfor'");
  EXPECT_HAS(parse_error("{% if a %}{% endfor %}"), "unexpected 'endfor'");
  EXPECT_HAS(parse_error("{% macro m() %}x"), "missing {% endmacro %}");
  EXPECT_HAS(parse_error("{% generation %}x"), "missing {% endgeneration %}");
}

TEST(TemplateErrors, LexicalErrors) {
  EXPECT_HAS(parse_error("a\nb {# never closed"), "line 2: unclosed comment");
  EXPECT_HAS(parse_error("{{ 'abc }}"), "unterminated string");
  EXPECT_HAS(parse_error("{{ x "), "unclosed '{{'");
  EXPECT_HAS(parse_error("{% if (a %}{% endif %}"), "expected ')'");
  EXPECT_HAS(parse_error("{{ a ] }}"), "unexpected ']'");
  EXPECT_HAS(parse_error("{{ a $ b }}"), "unexpected character '$'");
  EXPECT_HAS(parse_error("{{ 99999999999999999999 }}"), "out of range");
  EXPECT_HAS(parse_error("{% raw %}never ends"), "missing {% endraw %}");
}

TEST(TemplateErrors, SyntaxErrors) {
  EXPECT_HAS(parse_error("{{ 1 + }}"), "unexpected '}}'");
  EXPECT_HAS(parse_error("{{ }}"), "unexpected '}}'");
  EXPECT_HAS(parse_error("{% for in x %}{% endfor %}"), "expected 'in'");
  EXPECT_HAS(parse_error("{% for 1 in x %}{% endfor %}"), "expected a name");
  EXPECT_HAS(parse_error("{% for x y %}{% endfor %}"), "expected 'in'");
  EXPECT_HAS(parse_error("{% break %}"), "'break' outside of a for loop");
  EXPECT_HAS(parse_error("{% for x in y %}{% macro m() %}{% break %}{% endmacro %}{% endfor %}"),
             "outside of a for loop");
  EXPECT_HAS(parse_error("{{ f(a=1, 2) }}"), "positional argument after keyword");
  EXPECT_HAS(parse_error("{{ f(*args) }}"), "unsupported");
  EXPECT_HAS(parse_error("{% for x in y recursive %}{% endfor %}"), "recursive");
}

TEST(TemplateErrors, LineNumbersSurviveCommentsStringsAndWhitespaceControl) {
  std::string src =
      "{#- a\n multi-line\n comment -#}\n"  // lines 1-3
      "{{- 'a\nb' -}}\n"                    // lines 4-5
      "{%- if true -%}\n"                   // line 6
      "{{ raise_exception('boom') }}\n"     // line 7
      "{%- endif %}";
  std::string e = render_error(src);
  EXPECT_HAS(e, "line 7");
  EXPECT_HAS(e, "raise_exception: boom");
}

TEST(TemplateErrors, RuntimeErrorsCarryLines) {
  EXPECT_HAS(render_error("ok\n{{ missing.attr }}"), "line 2: 'missing' is undefined");
  EXPECT_HAS(render_error("{{ d.a.b }}", {{"d", Json::object()}}),
             "'dict object' has no attribute 'a'");
  EXPECT_HAS(render_error("{{ 'a' + 1 }}"), "can only concatenate str");
  EXPECT_HAS(render_error("{{ 1 // 0 }}"), "division or modulo by zero");
  EXPECT_HAS(render_error("{{ 'a' < 1 }}"), "'<' not supported");
  EXPECT_HAS(render_error("{{ 5 is odd(1, 2) }}{{ 1 is divisibleby 0 }}"), "zero");
  EXPECT_HAS(render_error("{% set x = 1 %}{% set x.y = 2 %}"), "not a namespace");
  EXPECT_HAS(render_error("{{ [1].append(2) }}"), "immutable");
  EXPECT_HAS(render_error("{{ 9223372036854775807 + 1 }}"), "integer overflow");
  EXPECT_HAS(render_error("{{ x() }}", {{"x", 1}}), "'int' object is not callable");
  EXPECT_HAS(render_error("{% for a, b in [1] %}{% endfor %}"), "not iterable");
  EXPECT_HAS(render_error("{{ {'a': 1} | tojson(indent='x') }}"), "indent");
  EXPECT_HAS(render_error("{{ missing | tojson }}"), "not JSON serializable");
}

TEST(TemplateRender, ContextMustBeAnObject) {
  auto t = Template::parse("x");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->render(Json::array()).ok());
  EXPECT_TRUE(t->render(Json()).ok());  // null = no variables
}

TEST(TemplateRender, EmptyTemplateObjectFailsCleanly) {
  Template t;
  auto r = t.render(Json::object());
  EXPECT_FALSE(r.ok());
}

TEST(TemplateRender, ParsedTemplateIsReusableAndCopyable) {
  auto t = Template::parse("{{ name }}!");
  ASSERT_TRUE(t.ok());
  Template copy = *t;
  EXPECT_EQ(*t->render({{"name", "a"}}), "a!");
  EXPECT_EQ(*copy.render({{"name", "b"}}), "b!");
}

TEST(TemplateRender, StrftimeNowUsesInjectedClock) {
  RenderOptions options;
  auto date = parse_date("1 January 2024");
  ASSERT_TRUE(date.ok());
  options.now = [tm = *date] { return tm; };
  EXPECT_EQ(*render("{{ strftime_now('%d %B %Y (%A)') }}", Json::object(), options),
            "01 January 2024 (Monday)");
  // Without a clock, the real local time: at least the year prints as four digits.
  auto now = render("{{ strftime_now('%Y') }}");
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->size(), 4u);
}

TEST(TemplateRender, ObjectKeyOrderIsPreserved) {
  Json ctx = Json::parse(R"({"tool": {"zeta": 1, "alpha": {"y": true, "b": null}}})");
  EXPECT_EQ(*render("{{ tool | string }} {{ tool | tojson }}", ctx),
            "{'zeta': 1, 'alpha': {'y': True, 'b': None}} "
            "{\"zeta\": 1, \"alpha\": {\"y\": true, \"b\": null}}");
}

TEST(TemplateLimits, StepLimitStopsRunawayLoops) {
  RenderOptions options;
  options.limits.max_steps = 100000;
  std::string e = render_error(
      "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
      Json::object(), options);
  EXPECT_HAS(e, "steps");
}

TEST(TemplateLimits, OutputAndValueSizeLimits) {
  RenderOptions options;
  options.limits.max_output_bytes = 1 << 20;
  EXPECT_HAS(render_error("{% for i in range(10000) %}{{ 'x' * 1000 }}{% endfor %}", Json::object(),
                          options),
             "output exceeds");
  EXPECT_HAS(render_error("{{ 'x' * 10000000000 }}"), "too large");
  EXPECT_HAS(render_error("{{ [1, 2] * 100000000 }}"), "too large");
  EXPECT_HAS(render_error("{{ range(10000000000) | length }}"), "range() longer");
  EXPECT_HAS(render_error("{% set ns = namespace(s='xxxxxxxxxxxxxxxx') %}"
                          "{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"),
             "exceeds");
}

TEST(TemplateLimits, ManyMacroDefinitionsAndNamespacesStayCheap) {
  // Each iteration defines a macro capturing a fresh loop frame and links a namespace to itself
  // (a reference cycle the interpreter must break at the end: ASan's leak check sees it).
  auto r = render(
      "{% set ns = namespace(n=0) %}{% for i in range(5000) %}{% macro m() %}{{ i }}"
      "{% endmacro %}{% set ns.self = ns %}{% set ns.m = m %}{% set ns.n = ns.n + 1 %}"
      "{% endfor %}{{ ns.n }} {{ ns.m() }}");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, "5000 4999");
}

TEST(TemplateLimits, CopyingBigStringsCountsAsWork) {
  // 4 MB string read 5 M times would be 20 TB of copying: the step budget must stop it early.
  std::string e = render_error(
      "{% set s = 'x' * 4000000 %}{% for i in range(1000) %}{% for j in range(1000) %}{% if s %}{% "
      "endif %}{% endfor %}{% endfor %}");
  EXPECT_HAS(e, "steps");
}

TEST(TemplateLimits, RecursionIsBounded) {
  std::string e = render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_HAS(e, "nested deeper than");
  std::string deep(5000, '(');
  EXPECT_HAS(parse_error("{{ " + deep + "1" + std::string(5000, ')') + " }}"), "nesting deeper");
  EXPECT_HAS(parse_error("{{ " + std::string(5000, '[') + " }}"), "");
  std::string nots;
  for (int k = 0; k < 5000; ++k) nots += "not ";
  EXPECT_HAS(parse_error("{{ " + nots + "x }}"), "nesting deeper");
  std::string ifs;
  for (int k = 0; k < 5000; ++k) ifs += "{% if x %}";
  EXPECT_HAS(parse_error(ifs), "nesting deeper");
  EXPECT_HAS(parse_error("{{ 1" + std::string(5000, '|') + " }}"), "");
}

TEST(TemplateLimits, DeepestAllowedNestingRendersWithoutStackTrouble) {
  // Maximum macro recursion with a deeply nested expression in each frame (run under ASan too).
  std::string expr = "n";
  for (int k = 0; k < 40; ++k) expr = "(" + expr + " + 0)";
  std::string src = "{% macro f(n) %}{% if n < 31 %}{{ f(" + expr +
                    " + 1) }}{% else %}{{ n }}{% endif %}{% endmacro %}{{ f(0) }}";
  auto r = render(src);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, "31");
}

// Random edits of a real template must give a Template or an Error, and rendering whatever
// parses must give text or an Error (never a crash or a hang; ASan build checks memory).
TEST(TemplateRobustness, MutatedTemplatesNeverCrash) {
  std::ifstream in(
      std::string(std::getenv("SMOL_SOURCE_DIR") ? std::getenv("SMOL_SOURCE_DIR") : ".") +
      "/tests/data/chat/golden-smollm3.json");
  ASSERT_TRUE(in) << "golden-smollm3.json not found";
  std::stringstream ss;
  ss << in.rdbuf();
  Json golden = Json::parse(ss.str());
  const std::string base = golden["template"].get<std::string>();
  const Json context = golden["cases"][20]["context"];
  const std::string alphabet = "{}%#-+()[]'\"|.~=!<>:, \nabcxyz019_";
  std::mt19937 rng(1234);
  RenderOptions options;
  options.limits.max_steps = 200000;
  int parsed = 0;
  for (int iter = 0; iter < 1500; ++iter) {
    std::string s = base;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits && !s.empty(); ++k) {
      size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s.erase(pos, 1 + rng() % 3);
          break;
        case 1:
          s.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          s[pos] = alphabet[rng() % alphabet.size()];
      }
    }
    auto t = Template::parse(s);
    if (!t) {
      EXPECT_HAS(t.error(), "chat template line ");
      continue;
    }
    ++parsed;
    auto r = t->render(context, options);
    if (!r) {
      EXPECT_HAS(r.error(), "chat template");
    }
  }
  EXPECT_GT(parsed, 100);
}

TEST(RenderChat, FallsBackToChatmlWhenTemplateCannotBeParsed) {
  Json ctx = {
      {"messages", {{{"role", "system"}, {"content", "S"}}, {{"role", "user"}, {"content", "U"}}}},
      {"add_generation_prompt", true}};
  auto p = render_chat("{% include 'x' %}", ctx);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->used_fallback);
  EXPECT_HAS(p->fallback_reason, "line 1: unsupported tag 'include'");
  EXPECT_EQ(
      p->text,
      "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n");
  auto empty = render_chat("", ctx);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->used_fallback);
  EXPECT_HAS(empty->fallback_reason, "no chat template");
}

TEST(RenderChat, UsesTheTemplateWhenItParses) {
  Json ctx = {{"messages", {{{"role", "user"}, {"content", "U"}}}}};
  auto p = render_chat("{% for m in messages %}[{{ m.content }}]{% endfor %}", ctx);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->used_fallback);
  EXPECT_EQ(p->text, "[U]");
}

TEST(RenderChat, TemplateRefusalIsAnErrorNotAFallback) {
  auto p = render_chat("{{ raise_exception('no system role allowed') }}", Json::object());
  ASSERT_FALSE(p.ok());
  EXPECT_HAS(p.error(), "no system role allowed");
}

TEST(RenderChat, ChatmlRendersNonStringContentEmpty) {
  Json ctx = {{"messages", {{{"role", "user"}, {"content", {1, 2}}}, {{"content", "no role"}}}}};
  EXPECT_EQ(render_chatml(ctx),
            "<|im_start|>user\n<|im_end|>\n<|im_start|>user\nno role<|im_end|>\n");
}

TEST(ParseDate, Formats) {
  auto a = parse_date("09 July 2025");
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(a->tm_year, 125);
  EXPECT_EQ(a->tm_mon, 6);
  EXPECT_EQ(a->tm_mday, 9);
  EXPECT_EQ(a->tm_wday, 3);  // a Wednesday
  EXPECT_EQ(a->tm_yday, 189);
  auto b = parse_date("2025-07-09T14:30:05");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->tm_hour, 14);
  EXPECT_EQ(b->tm_sec, 5);
  auto c = parse_date("9 jul 2025");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->tm_mon, 6);
  EXPECT_EQ(parse_date("29 Feb 2024")->tm_yday, 59);
  EXPECT_FALSE(parse_date("29 Feb 2025").ok());
  EXPECT_FALSE(parse_date("31 April 2025").ok());
  EXPECT_FALSE(parse_date("09 Juli 2025").ok());
  EXPECT_FALSE(parse_date("yesterday").ok());
  EXPECT_FALSE(parse_date("2025-13-01").ok());
}

}  // namespace
}  // namespace smol::chat
