// Hostile input: every failure mode yields its own error message (naming field and offset), and
// no truncation or byte flip of a valid file crashes the reader (run under ASan/UBSan in CI).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "corrupt_cases.h"
#include "smol/gguf.h"

namespace smol::gguf {
namespace {

using testing::Bytes;
using testing::corrupt_cases;
using testing::CorruptCase;

TEST(GgufCorrupt, ValidReferenceImageParses) {
  Result<File> f = File::from_bytes(testing::valid_image());
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->tensors().size(), 1u);
  EXPECT_EQ(f->data_offset(), 128u);
  EXPECT_EQ(f->tensors()[0].n_bytes, 256u);
}

class GgufCorruptCase : public ::testing::TestWithParam<CorruptCase> {};

TEST_P(GgufCorruptCase, ReportsSpecificError) {
  const CorruptCase& c = GetParam();
  Result<File> f = File::from_bytes(c.bytes);
  ASSERT_FALSE(f.ok()) << c.name << " parsed";
  EXPECT_NE(f.error().find(c.expected), std::string::npos)
      << "message: " << f.error() << "\nexpected substring: " << c.expected;
  EXPECT_EQ(f.error().rfind("gguf: ", 0), 0u) << f.error();
  EXPECT_EQ(f.error().find('\n'), std::string::npos) << f.error();
}

INSTANTIATE_TEST_SUITE_P(AllModes, GgufCorruptCase, ::testing::ValuesIn(corrupt_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(GgufCorrupt, MessagesAreDistinct) {
  std::vector<CorruptCase> cases = corrupt_cases();
  for (size_t i = 0; i < cases.size(); ++i) {
    Result<File> a = File::from_bytes(cases[i].bytes);
    ASSERT_FALSE(a.ok());
    for (size_t j = i + 1; j < cases.size(); ++j) {
      Result<File> b = File::from_bytes(cases[j].bytes);
      ASSERT_FALSE(b.ok());
      EXPECT_NE(a.error(), b.error()) << cases[i].name << " vs " << cases[j].name;
    }
  }
}

TEST(GgufCorrupt, OpenNamesThePath) {
  std::filesystem::path path = std::filesystem::temp_directory_path() / "smol_gguf_bad_magic.gguf";
  std::vector<uint8_t> bytes = corrupt_cases()[0].bytes;
  std::FILE* out = std::fopen(path.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  std::fwrite(bytes.data(), 1, bytes.size(), out);
  std::fclose(out);
  Result<File> f = File::open(path.string());
  std::filesystem::remove(path);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().rfind("gguf: " + path.string() + ": magic at offset 0: bad magic", 0), 0u)
      << f.error();
}

TEST(GgufCorrupt, MissingFile) {
  Result<File> f = File::open("/nonexistent/dir/model.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().find("cannot open"), std::string::npos) << f.error();
}

TEST(GgufCorrupt, DirectoryIsNotAFile) {
  Result<File> f = File::open("/tmp");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().find("not a regular file"), std::string::npos) << f.error();
}

// A small but feature-complete file: arrays, strings, several tensors with padding between them.
std::vector<uint8_t> rich_image() {
  Writer w;
  w.set_string("general.architecture", "smollm3");
  w.set_u32("smollm3.block_count", 2);
  std::vector<std::string> tokens = {"a", "bc", "<|im_start|>"};
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  std::vector<int32_t> types = {1, 1, 3};
  w.set_array("tokenizer.ggml.token_type", std::span<const int32_t>(types));
  w.set_f32("smollm3.rope.freq_base", 5e6f);
  std::vector<uint8_t> f32_data(4 * 8, 1);
  std::vector<uint8_t> q4k_data(144, 2);
  const int64_t ne_a[] = {8};
  const int64_t ne_b[] = {256};
  EXPECT_TRUE(w.add_tensor("a", TensorType::F32, ne_a, f32_data).ok());
  EXPECT_TRUE(w.add_tensor("b", TensorType::Q4_K, ne_b, q4k_data).ok());
  Result<std::vector<uint8_t>> bytes = w.to_bytes();
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

TEST(GgufCorrupt, EveryTruncationFailsCleanly) {
  std::vector<uint8_t> full = rich_image();
  Result<File> whole = File::from_bytes(full);
  ASSERT_TRUE(whole.ok());
  // Only the padding after the last tensor may go: the data must be complete.
  const TensorInfo& last = whole->tensors().back();
  const size_t data_end = whole->data_offset() + last.offset + last.n_bytes;
  ASSERT_LT(data_end, full.size());
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    Result<File> f = File::from_bytes(std::move(cut));
    EXPECT_EQ(f.ok(), n >= data_end) << "truncated to " << n << " bytes";
  }
}

TEST(GgufCorrupt, ByteFlipsNeverCrash) {
  std::vector<uint8_t> full = rich_image();
  const uint8_t kPatterns[] = {0x00, 0xff, 0x80, 0x7f, 0x01};
  size_t failures = 0;
  for (size_t i = 0; i < full.size(); ++i) {
    for (uint8_t p : kPatterns) {
      std::vector<uint8_t> copy = full;
      if (copy[i] == p) continue;
      copy[i] = p;
      Result<File> f = File::from_bytes(std::move(copy));
      if (!f.ok()) {
        ++failures;
        EXPECT_EQ(f.error().find('\n'), std::string::npos);
        continue;
      }
      // A mutation that still parses must still describe a consistent file.
      for (const TensorInfo& t : f->tensors()) {
        EXPECT_LE(f->data_offset() + t.offset + t.n_bytes, f->file_size());
      }
    }
  }
  EXPECT_GT(failures, 0u);
}

}  // namespace
}  // namespace smol::gguf
