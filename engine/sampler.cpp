#include "smol/sampler.h"

#include <algorithm>
#include <cmath>

#include "smol/result.h"

namespace smol::engine {

Sampler::Sampler(const SamplerParams& params, int n_vocab)
    : params_(params),
      n_vocab_(n_vocab),
      rng_(params.seed),
      candidates_(static_cast<size_t>(n_vocab)),
      window_(static_cast<size_t>(std::max(params.penalty_last_n, 0))),
      counts_(static_cast<size_t>(n_vocab), 0) {
  SMOL_CHECK(n_vocab > 0, "sampler needs a vocabulary");
}

void Sampler::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  window_next_ = 0;
  window_size_ = 0;
  rng_.seed(params_.seed);
}

void Sampler::accept(int32_t token) {
  if (window_.empty() || token < 0 || token >= n_vocab_) return;
  if (window_size_ == window_.size()) {
    --counts_[static_cast<size_t>(window_[window_next_])];  // oldest token leaves the window
  } else {
    ++window_size_;
  }
  window_[window_next_] = token;
  ++counts_[static_cast<size_t>(token)];
  window_next_ = (window_next_ + 1) % window_.size();
}

double Sampler::uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

int32_t Sampler::sample(std::span<float> logits) {
  SMOL_CHECK(logits.size() == static_cast<size_t>(n_vocab_), "logits size != n_vocab");

  for (const auto& [id, bias] : params_.logit_bias) {
    if (id >= 0 && id < n_vocab_) logits[static_cast<size_t>(id)] += bias;
  }

  // Penalties: only tokens in the window have a non-zero count, so walk the ring, not the vocab.
  // A token present several times is visited several times; `counts_` is negated after the
  // first visit and restored at the end so each token is penalised exactly once.
  const bool any_penalty = params_.repeat_penalty != 1.0f || params_.presence_penalty != 0.0f ||
                           params_.frequency_penalty != 0.0f;
  if (any_penalty) {
    for (size_t i = 0; i < window_size_; ++i) {
      const size_t id = static_cast<size_t>(window_[i]);
      const int32_t count = counts_[id];
      if (count <= 0) continue;  // already handled
      float& l = logits[id];
      if (params_.repeat_penalty != 1.0f) {
        l = l > 0 ? l / params_.repeat_penalty : l * params_.repeat_penalty;
      }
      l -= params_.frequency_penalty * static_cast<float>(count) + params_.presence_penalty;
      counts_[id] = -count;
    }
    for (size_t i = 0; i < window_size_; ++i) {
      const size_t id = static_cast<size_t>(window_[i]);
      if (counts_[id] < 0) counts_[id] = -counts_[id];
    }
  }

  if (params_.temperature <= 0.0f) {
    // Greedy; ties go to the lowest id, like a stable argmax.
    size_t best = 0;
    for (size_t i = 1; i < logits.size(); ++i) {
      if (logits[i] > logits[best]) best = i;
    }
    return static_cast<int32_t>(best);
  }

  size_t n = logits.size();
  for (size_t i = 0; i < n; ++i) candidates_[i] = {static_cast<int32_t>(i), logits[i], 0.0f};
  auto by_logit = [](const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  };
  const auto first = candidates_.begin();
  auto at = [&](size_t i) { return first + static_cast<ptrdiff_t>(i); };
  // Invariant below: candidates_[0, sorted) are the `sorted` best of [0, n), best first.
  size_t sorted = 0;
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < n) {
    n = static_cast<size_t>(params_.top_k);
    std::partial_sort(first, at(n), at(logits.size()), by_logit);
    sorted = n;
  }

  // Softmax at temperature 1 over the candidates (order does not matter for it).
  float max_logit = candidates_[0].logit;
  for (size_t i = 1; i < n; ++i) max_logit = std::max(max_logit, candidates_[i].logit);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    candidates_[i].p = std::exp(candidates_[i].logit - max_logit);
    sum += candidates_[i].p;
  }
  for (size_t i = 0; i < n; ++i) candidates_[i].p = static_cast<float>(candidates_[i].p / sum);

  // Top-p needs the candidates in order, but only as far as the nucleus reaches: sort a prefix
  // (256 first, doubled while the mass is short) instead of the whole 128k vocabulary.
  if (params_.top_p < 1.0f) {
    size_t keep = n;
    for (size_t want = std::min<size_t>(256, n);; want = std::min(2 * want, n)) {
      if (want > sorted) {
        std::partial_sort(first, at(want), at(n), by_logit);
        sorted = want;
      }
      double cumulative = 0;
      size_t i = 0;
      for (; i < sorted; ++i) {
        cumulative += candidates_[i].p;
        if (cumulative >= params_.top_p) break;
      }
      if (i < sorted) {
        keep = i + 1;
        break;
      }
      if (sorted == n) break;  // rounding left the total just under top_p: keep all
    }
    n = keep;
  }
  // Min-p keeps every token with p >= min_p * p_max: exactly the best `count` of them.
  if (params_.min_p > 0.0f) {
    const float threshold = params_.min_p * static_cast<float>(1.0 / sum);  // min_p * p_max
    size_t count = 0;
    for (size_t i = 0; i < n; ++i) count += candidates_[i].p >= threshold ? 1 : 0;
    count = std::max<size_t>(count, 1);  // the most likely token always survives
    if (count < n && count > sorted) std::nth_element(first, at(count - 1), at(n), by_logit);
    n = count;
  }

  // Temperature on the survivors, then draw by inverse CDF.
  sum = 0;
  for (size_t i = 0; i < n; ++i) {
    candidates_[i].p = std::exp((candidates_[i].logit - max_logit) / params_.temperature);
    sum += candidates_[i].p;
  }
  const double r = uniform() * sum;
  double cumulative = 0;
  for (size_t i = 0; i < n; ++i) {
    cumulative += candidates_[i].p;
    if (r < cumulative) return candidates_[i].id;
  }
  return candidates_[n - 1].id;  // r landed on the rounding slack at the top end
}

}  // namespace smol::engine
