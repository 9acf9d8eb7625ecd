// A GoogleTest fixture base for tests on the synth_tiny CTest fixture's model
// (SMOL_MODEL_DIR/synth-tiny.gguf). The model is loaded once per suite, because building the
// 128k-token vocabulary takes about half a second; every test skips, saying why, when the file
// is absent or does not load.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "smol/engine.h"

namespace smol::engine::testing {

class SynthTinySuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* dir = std::getenv("SMOL_MODEL_DIR");
    const std::string path = dir ? std::string(dir) + "/synth-tiny.gguf" : "";
    if (path.empty() || !std::filesystem::exists(path)) return;
    auto m = Model::load(path);
    if (m.ok()) shared_ = std::move(*m).release();
  }
  static void TearDownTestSuite() {
    delete shared_;
    shared_ = nullptr;
  }
  void SetUp() override {
    if (!shared_) GTEST_SKIP() << "synth-tiny.gguf not found or not loadable (synth_tiny fixture)";
  }
  static inline Model* shared_ = nullptr;
};

}  // namespace smol::engine::testing
