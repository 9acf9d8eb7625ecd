// Byte-for-byte agreement with real Jinja: the goldens are written by
// scripts/gen-template-golden.py (python3-jinja2 configured like transformers) and hold the
// template source, the render context and the expected text (or the fact that Jinja failed).
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "smol/chat_template.h"

namespace smol::chat {
namespace {

std::string source_dir() {
  const char* dir = std::getenv("SMOL_SOURCE_DIR");
  return dir ? dir : ".";
}

Json load_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Json();
  std::stringstream ss;
  ss << in.rdbuf();
  return Json::parse(ss.str(), nullptr, false);
}

RenderOptions options_for(const Json& golden) {
  auto date = parse_date(golden.value("date", std::string("2025-07-09T14:30:05")));
  EXPECT_TRUE(date.ok());
  RenderOptions options;
  std::tm tm = date.ok() ? *date : std::tm{};
  options.now = [tm] { return tm; };
  return options;
}

// Where two strings first differ, with some context, for readable failures.
std::string first_difference(const std::string& want, const std::string& got) {
  size_t k = 0;
  while (k < want.size() && k < got.size() && want[k] == got[k]) ++k;
  size_t from = k > 40 ? k - 40 : 0;
  std::ostringstream os;
  os << "first difference at byte " << k << " (want " << want.size() << " bytes, got " << got.size()
     << ")\n  want: " << Json(want.substr(from, 100)).dump()
     << "\n  got:  " << Json(got.substr(from, 100)).dump();
  return os.str();
}

void check_cases(const Json& golden, const std::string* shared_template) {
  ASSERT_TRUE(golden.is_object()) << "golden file missing or not JSON";
  RenderOptions options = options_for(golden);
  ASSERT_TRUE(golden.contains("cases"));
  int checked = 0;
  for (const auto& c : golden["cases"]) {
    std::string name = c["name"].get<std::string>();
    std::string source =
        c.contains("template") ? c["template"].get<std::string>() : *shared_template;
    auto tmpl = Template::parse(source);
    if (!tmpl.ok()) {
      ADD_FAILURE() << name << ": " << tmpl.error();
      continue;
    }
    auto out = tmpl->render(c["context"], options);
    if (c.contains("error")) {
      EXPECT_FALSE(out.ok()) << name << ": Jinja failed (" << c["error"].get<std::string>()
                             << ") but we rendered:\n"
                             << (out.ok() ? *out : "");
      if (!out.ok()) {
        EXPECT_NE(out.error().find("chat template line "), std::string::npos) << out.error();
      }
    } else {
      if (!out.ok()) {
        ADD_FAILURE() << name << ": " << out.error();
        continue;
      }
      std::string want = c["expected"].get<std::string>();
      EXPECT_EQ(want, *out) << name << ": " << first_difference(want, *out);
    }
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST(TemplateGolden, SmolLM3) {
  Json golden = load_json(source_dir() + "/tests/data/chat/golden-smollm3.json");
  ASSERT_TRUE(golden.is_object());
  std::string source = golden["template"].get<std::string>();
  EXPECT_GE(golden["cases"].size(), 25u);
  check_cases(golden, &source);
}

TEST(TemplateGolden, ChatmlAlt) {
  Json golden = load_json(source_dir() + "/tests/data/chat/golden-chatml-alt.json");
  ASSERT_TRUE(golden.is_object());
  std::string source = golden["template"].get<std::string>();
  check_cases(golden, &source);
}

TEST(TemplateGolden, Constructs) {
  Json golden = load_json(source_dir() + "/tests/data/chat/golden-constructs.json");
  check_cases(golden, nullptr);
}

// The golden embeds the template it was generated from; make sure that is still the reference
// template (otherwise rerun scripts/gen-template-golden.py).
TEST(TemplateGolden, GoldenMatchesSharedReferenceTemplate) {
  const char* shared = std::getenv("SMOL_SHARED_DIR");
  std::ifstream in(
      std::string(shared ? shared : "../shared") + "/reference/smollm3-chat-template.jinja",
      std::ios::binary);
  if (!in) GTEST_SKIP() << "shared reference template not found (SMOL_SHARED_DIR unset or absent)";
  std::stringstream ss;
  ss << in.rdbuf();
  Json golden = load_json(source_dir() + "/tests/data/chat/golden-smollm3.json");
  ASSERT_TRUE(golden.is_object());
  EXPECT_EQ(golden["template"].get<std::string>(), ss.str());
}

}  // namespace
}  // namespace smol::chat
