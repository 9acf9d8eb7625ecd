// smol/sampler.h — turns one row of logits into the next token id.
//
// Goals: the usual llama.cpp-style controls (greedy, temperature, top-k, top-p, min-p,
// repetition / presence / frequency penalties, logit bias) in a fixed, documented order; the same
// seed gives the same tokens on every machine (own uniform from a 64-bit Mersenne Twister, no
// <random> distributions, whose output is implementation-defined); no heap allocation per token
// (all scratch sized to the vocabulary at construction).
// Non-goals: grammar constraints, DRY, XTC, mirostat.
//
// Order of application (as llama.cpp's default chain):
//   logit bias -> penalties over the last `penalty_last_n` accepted tokens -> [temperature <= 0:
//   argmax] -> top-k -> softmax -> top-p -> min-p -> temperature -> draw.
// top-p and min-p are judged on the temperature-1 distribution, like llama.cpp.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace smol::engine {

struct SamplerParams {
  float temperature = 0.0f;  // <= 0: greedy (argmax after bias and penalties)
  int top_k = 0;             // keep the k most likely tokens; <= 0 keeps all
  float top_p = 1.0f;        // nucleus: smallest set with cumulative probability >= top_p; 1 = off
  float min_p = 0.0f;        // drop tokens with p < min_p * p_max; 0 = off
  float repeat_penalty = 1.0f;     // logit > 0: divided by it, else multiplied; 1 = off
  float presence_penalty = 0.0f;   // subtracted once from any token seen in the window
  float frequency_penalty = 0.0f;  // subtracted per occurrence in the window
  int penalty_last_n = 64;         // window of accepted tokens the penalties look at; 0 = none
  std::vector<std::pair<int32_t, float>> logit_bias;  // (token id, added to its logit)
  uint64_t seed = 0;
};

class Sampler {
 public:
  // `n_vocab` sizes the scratch; logits given to sample() must have exactly that many entries.
  Sampler(const SamplerParams& params, int n_vocab);

  // Picks a token from `logits` (n_vocab entries; modified in place by bias and penalties).
  // Does not record the token: call accept() with whatever token is actually used.
  int32_t sample(std::span<float> logits);

  // Records a token for the penalty window (prompt tokens too, if the caller wants them counted).
  void accept(int32_t token);

  // Forgets the penalty window and reseeds the generator.
  void reset();

  const SamplerParams& params() const { return params_; }

 private:
  struct Candidate {
    int32_t id;
    float logit;
    float p;
  };
  double uniform();  // [0, 1) with 53 random bits

  SamplerParams params_;
  int n_vocab_;
  std::mt19937_64 rng_;
  std::vector<Candidate> candidates_;  // [n_vocab] scratch
  std::vector<int32_t> window_;        // [penalty_last_n] ring of accepted tokens
  std::vector<int32_t> counts_;        // [n_vocab] occurrences inside the window
  size_t window_next_ = 0;             // ring write position
  size_t window_size_ = 0;             // tokens currently in the ring
};

}  // namespace smol::engine
