// gguf-inspect as a program: each corrupt file gives exit status 1 and exactly one stderr line
// naming the problem (never a signal); a valid smollm3-like file gives a report whose JSON agrees
// with the reader's own view.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "corrupt_cases.h"
#include "smol/gguf.h"
#include "smollm3_like.h"

extern char** environ;

namespace smol::gguf {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct RunResult {
  bool exited = false;  // false: killed by a signal
  int status = -1;      // exit status when exited
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class GgufInspect : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("SMOL_BIN_DIR");
    if (!bin) GTEST_SKIP() << "SMOL_BIN_DIR not set (run through ctest)";
    tool_ = fs::path(bin) / "gguf-inspect";
    ASSERT_TRUE(fs::exists(tool_)) << tool_;
    dir_ = fs::temp_directory_path() / ("smol_gguf_inspect_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  RunResult run(const std::vector<std::string>& args) {
    fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> argv_s = {tool_.string()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    RunResult r;
    int rc = posix_spawn(&pid, tool_.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(rc, 0) << "posix_spawn failed";
    if (rc != 0) return r;
    int wstatus = 0;
    waitpid(pid, &wstatus, 0);
    r.exited = WIFEXITED(wstatus);
    r.status = r.exited ? WEXITSTATUS(wstatus) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  fs::path write(const std::string& name, const std::vector<uint8_t>& bytes) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    return p;
  }

  fs::path tool_, dir_;
};

TEST_F(GgufInspect, EveryCorruptFileExitsOneWithOneLine) {
  for (const testing::CorruptCase& c : testing::corrupt_cases()) {
    fs::path p = write(std::string(c.name) + ".gguf", c.bytes);
    for (bool json : {false, true}) {
      std::vector<std::string> args = {p.string()};
      if (json) args.push_back("--json");
      RunResult r = run(args);
      SCOPED_TRACE(std::string(c.name) + (json ? " --json" : ""));
      ASSERT_TRUE(r.exited) << "killed by a signal";
      EXPECT_EQ(r.status, 1);
      EXPECT_TRUE(r.out.empty()) << r.out;
      ASSERT_FALSE(r.err.empty());
      EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not exactly one line: " << r.err;
      EXPECT_EQ(r.err.rfind("gguf-inspect: gguf: " + p.string() + ": ", 0), 0u) << r.err;
      EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err;
    }
  }
}

TEST_F(GgufInspect, MissingFileAndUsage) {
  RunResult r = run({(dir_ / "absent.gguf").string()});
  ASSERT_TRUE(r.exited);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cannot open: No such file or directory"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1);

  RunResult u = run({});
  ASSERT_TRUE(u.exited);
  EXPECT_EQ(u.status, 2);
  EXPECT_NE(u.err.find("usage: gguf-inspect FILE [--json]"), std::string::npos);
}

TEST_F(GgufInspect, TextReportOfSmolLM3LikeFile) {
  fs::path p = dir_ / "like.gguf";
  ASSERT_TRUE(testing::smollm3_like_writer().write(p.string()).ok());
  RunResult r = run({p.string()});
  ASSERT_TRUE(r.exited);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  for (const char* needle :
       {"version      3", "tensors      38", "smollm3.block_count", "[string x 107]",
        "... 99 more]", "\"SmolLM3 test\\nlayout\"", "blk.3.ffn_down.weight", "Q6_K", "512 x 256",
        "layers 4, hidden 256, ffn 512, heads 4, kv heads 2, head dim 64",
        "NoPE layers (no RoPE, (il+1) % 4 == 0): 3 (1)", "tied embeddings: yes",
        "bos 100, eos 102, pad 102", "<|im_start|> 101", "</tool_call> 106",
        "rope base 5000000, rms eps 1e-06"}) {
    EXPECT_NE(r.out.find(needle), std::string::npos) << "missing: " << needle;
  }
}

TEST_F(GgufInspect, JsonAgreesWithReader) {
  fs::path p = dir_ / "like.gguf";
  ASSERT_TRUE(testing::smollm3_like_writer().write(p.string()).ok());
  RunResult r = run({p.string(), "--json"});
  ASSERT_TRUE(r.exited);
  ASSERT_EQ(r.status, 0) << r.err;
  Json j = Json::parse(r.out);  // exactly one JSON document

  Result<File> f = File::open(p.string());
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(j["version"], 3);
  EXPECT_EQ(j["architecture"], "smollm3");
  EXPECT_EQ(j["file_bytes"], f->file_size());
  EXPECT_EQ(j["data_offset"], f->data_offset());
  EXPECT_EQ(j["type_counts"], (Json{{"F32", 9}, {"Q4_K", 20}, {"Q6_K", 9}}));

  ASSERT_EQ(j["tensors"].size(), f->tensors().size());
  uint64_t n_params = 0;
  for (size_t i = 0; i < f->tensors().size(); ++i) {
    const TensorInfo& t = f->tensors()[i];
    const Json& jt = j["tensors"][i];
    EXPECT_EQ(jt["name"], std::string(t.name));
    EXPECT_EQ(jt["type"], std::string(type_name(t.type)));
    EXPECT_EQ(jt["offset"], t.offset);
    EXPECT_EQ(jt["bytes"], t.n_bytes);
    EXPECT_EQ(jt["shape"], std::vector<int64_t>(t.ne.begin(), t.ne.begin() + t.n_dims));
    n_params += t.n_elements;
  }
  EXPECT_EQ(j["n_params"], n_params);

  ASSERT_EQ(j["metadata"].size(), f->metadata().size());
  size_t i = 0;
  for (auto& [key, value] : j["metadata"].items()) {
    EXPECT_EQ(key, std::string(f->metadata()[i++].key)) << "metadata order";
  }
  EXPECT_EQ(j["metadata"]["smollm3.block_count"], 4);
  EXPECT_EQ(j["metadata"]["general.name"], "SmolLM3 test\nlayout");
  EXPECT_FLOAT_EQ(j["metadata"]["smollm3.rope.freq_base"].get<float>(), 5e6f);
  EXPECT_EQ(j["metadata"]["tokenizer.ggml.merges"], (Json{"t 1", "t 2"}));
  const Json& tokens = j["metadata"]["tokenizer.ggml.tokens"];
  EXPECT_EQ(tokens["type"], "array");
  EXPECT_EQ(tokens["elem_type"], "string");
  EXPECT_EQ(tokens["count"], 107);
  EXPECT_EQ(tokens["head"][2], "t2");

  const Json& a = j["arch"];
  EXPECT_EQ(a["n_layer"], 4);
  EXPECT_EQ(a["head_dim"], 64);
  EXPECT_EQ(a["vocab_size"], 107);
  EXPECT_EQ(a["nope_layers"], (Json{3}));
  EXPECT_EQ(a["tied_embeddings"], true);
  EXPECT_EQ(a["eos_token_id"], 102);
  EXPECT_EQ(a["special_tokens"]["<think>"], 103);
  EXPECT_EQ(a["special_tokens"]["<|im_end|>"], 102);
}

TEST_F(GgufInspect, InvalidUtf8InStringsStillGivesJson) {
  Writer w;
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", "bad \xff\xfe utf8");
  fs::path p = dir_ / "utf8.gguf";
  ASSERT_TRUE(w.write(p.string()).ok());
  RunResult r = run({p.string(), "--json"});
  ASSERT_TRUE(r.exited);
  ASSERT_EQ(r.status, 0) << r.err;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["architecture"], "llama");
  EXPECT_TRUE(j["arch"]["nope_layers"].empty());  // NoPE is a smollm3 rule only
}

}  // namespace
}  // namespace smol::gguf
