#include "smol/chat_template.h"

#include <cctype>
#include <cstdio>
#include <cstring>

#include "interpreter.h"
#include "parser.h"

namespace smol::chat {

struct Template::Impl {
  Body body;
};

namespace {

// Jinja resolves filter and test names when it compiles a template; so do we, so that a
// template using one we lack is refused at load time (and falls back) rather than mid-chat.
Status check_names(const Expr* e);

Status check_body(const Body& body) {
  for (const auto& node : body) {
    SMOL_TRY(check_names(node->expr.get()));
    SMOL_TRY(check_names(node->filter.get()));
    for (const auto& [cond, branch] : node->branches) {
      SMOL_TRY(check_names(cond.get()));
      SMOL_TRY(check_body(branch));
    }
    for (const auto& param : node->params) SMOL_TRY(check_names(param.default_value.get()));
    SMOL_TRY(check_body(node->body));
    SMOL_TRY(check_body(node->else_body));
  }
  return {};
}

Status check_names(const Expr* e) {
  if (!e) return {};
  auto where = [&] { return "chat template line " + std::to_string(e->line) + ": "; };
  if (e->kind == ExprKind::kFilter && !is_known_filter(e->name)) {
    return Error{where() + "unsupported filter '" + e->name + "'"};
  }
  if (e->kind == ExprKind::kTest && !is_known_test(e->name)) {
    return Error{where() + "unsupported test '" + e->name + "'"};
  }
  for (const auto& a : e->args) SMOL_TRY(check_names(a.get()));
  for (const auto& [k, v] : e->kwargs) SMOL_TRY(check_names(v.get()));
  for (const auto& [k, v] : e->dict_items) {
    SMOL_TRY(check_names(k.get()));
    SMOL_TRY(check_names(v.get()));
  }
  return {};
}

}  // namespace

Result<Template> Template::parse(std::string_view source, const ParseOptions& options) {
  auto body = parse_template(source, options);
  if (!body) return Error{body.error()};
  SMOL_TRY(check_body(*body));
  auto impl = std::make_shared<Impl>();
  impl->body = std::move(*body);
  Template t;
  t.impl_ = std::move(impl);
  return t;
}

Result<std::string> Template::render(const Json& context, const RenderOptions& options) const {
  if (!impl_) return Error{"chat template: render() on an empty Template"};
  Interpreter interpreter(options);
  return interpreter.render(impl_->body, context);
}

std::string render_chatml(const Json& context) {
  std::string out;
  if (context.is_object() && context.contains("messages") && context["messages"].is_array()) {
    for (const auto& m : context["messages"]) {
      if (!m.is_object()) continue;
      std::string role =
          m.contains("role") && m["role"].is_string() ? m["role"].get<std::string>() : "user";
      std::string content =
          m.contains("content") && m["content"].is_string() ? m["content"].get<std::string>() : "";
      out += "<|im_start|>" + role + "\n" + content + "<|im_end|>\n";
    }
  }
  bool add_prompt = context.is_object() && context.contains("add_generation_prompt") &&
                    context["add_generation_prompt"].is_boolean() &&
                    context["add_generation_prompt"].get<bool>();
  if (add_prompt) out += "<|im_start|>assistant\n";
  return out;
}

Result<ChatPrompt> render_chat(std::string_view template_source, const Json& context,
                               const RenderOptions& options) {
  ChatPrompt prompt;
  Result<Template> tmpl = template_source.empty()
                              ? Result<Template>(Error{"the model has no chat template"})
                              : Template::parse(template_source);
  if (!tmpl) {
    prompt.text = render_chatml(context);
    prompt.used_fallback = true;
    prompt.fallback_reason = tmpl.error();
    return prompt;
  }
  auto text = tmpl->render(context, options);
  if (!text) return Error{text.error()};
  prompt.text = std::move(*text);
  return prompt;
}

Result<std::tm> parse_date(std::string_view text) {
  static const char* const kMonths[] = {"january",   "february", "march",    "april",
                                        "may",       "june",     "july",     "august",
                                        "september", "october",  "november", "december"};
  std::string s(text);
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  char month_name[32] = {0};
  char tail = 0;
  int n = std::sscanf(s.c_str(), "%d-%d-%d%c%d:%d:%d", &year, &month, &day, &tail, &hour, &minute,
                      &second);
  bool iso = n == 3 || (n == 7 && (tail == 'T' || tail == ' '));
  if (!iso) {
    hour = minute = second = 0;
    if (std::sscanf(s.c_str(), "%d %31s %d", &day, month_name, &year) != 3) {
      return Error{"date '" + s + "': expected \"09 July 2025\" or \"2025-07-09[THH:MM:SS]\""};
    }
    std::string name(month_name);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    month = 0;
    for (int k = 0; k < 12; ++k) {
      std::string full(kMonths[k]);
      if (name == full || (name.size() >= 3 && full.compare(0, name.size(), name) == 0)) {
        month = k + 1;
      }
    }
    if (month == 0)
      return Error{"date '" + s + "': unknown month '" + std::string(month_name) + "'"};
  }
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || day > kDays[month - 1] ||
      hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
    return Error{"date '" + s + "': out of range"};
  }
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return Error{"date '" + s + "': not a leap year"};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  // Weekday (Sakamoto) and day of year, so %A / %a / %j work without touching the time zone.
  static const int kOffsets[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
  int y = month < 3 ? year - 1 : year;
  tm.tm_wday = (y + y / 4 - y / 100 + y / 400 + kOffsets[month - 1] + day) % 7;
  static const int kCumulative[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  tm.tm_yday = kCumulative[month - 1] + day - 1 + (leap && month > 2 ? 1 : 0);
  tm.tm_isdst = 0;
  return tm;
}

}  // namespace smol::chat
