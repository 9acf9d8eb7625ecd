// The gguf-synth command line: usage errors exit 2, bad input exits 1 with one line naming the
// culprit, and --plan prints the 3b totals without writing anything.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct CliResult {
  int status = -1;
  std::string out;  // stdout and stderr together
};

std::string synth_bin() {
  const char* dir = std::getenv("SMOL_BIN_DIR");
  return std::string(dir ? dir : "build/bin") + "/gguf-synth";
}

CliResult run(const std::string& args) {
  CliResult r;
  FILE* p = popen(("'" + synth_bin() + "' " + args + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int s = pclose(p);
  r.status = WIFEXITED(s) ? WEXITSTATUS(s) : -1;
  return r;
}

class SynthCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(synth_bin())) GTEST_SKIP() << synth_bin() << " is not built";
  }
};

TEST_F(SynthCli, UsageErrorsExitTwo) {
  EXPECT_EQ(run("").status, 2);
  EXPECT_EQ(run("--preset tiny").status, 2);  // no --out
  CliResult r = run("--preset tiny --out x.gguf --bogus");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--bogus"), std::string::npos) << r.out;
  r = run("--preset tiny --seed abc --out x.gguf");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--seed"), std::string::npos) << r.out;
  EXPECT_EQ(run("--help").status, 0);
}

TEST_F(SynthCli, BadInputExitsOneNamingIt) {
  const std::string out =
      (std::filesystem::temp_directory_path() / "synth_cli_never.gguf").string();
  CliResult r = run("--preset 7b --out " + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("7b"), std::string::npos) << r.out;
  r = run("--preset tiny --tokenizer-json /nonexistent/t.json --out " + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("/nonexistent/t.json"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(SynthCli, PlanPrintsTheThreeBTotals) {
  CliResult r = run("--preset 3b --plan");
  if (r.status == 1 && r.out.find("tokenizer.json not found") != std::string::npos) {
    GTEST_SKIP() << r.out;
  }
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out.substr(0, 200);
  EXPECT_EQ(j.at("n_tensors"), 326);
  EXPECT_EQ(j.at("type_counts").at("Q4_K"), 216);
  EXPECT_EQ(j.at("type_counts").at("Q6_K"), 37);
  EXPECT_EQ(j.at("type_counts").at("F32"), 73);
  EXPECT_EQ(j.at("data_bytes"), 1907462144ull);
  EXPECT_EQ(j.at("n_tokens"), 128256);
  EXPECT_EQ(j.at("n_merges"), 280147);
  EXPECT_EQ(j.at("nope_layers"), nlohmann::json({3, 7, 11, 15, 19, 23, 27, 31, 35}));
  EXPECT_EQ(j.at("tensors").size(), 326u);
}

}  // namespace
