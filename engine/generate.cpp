#include "smol/generate.h"

#include <algorithm>
#include <chrono>

namespace smol::engine {

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::kMaxTokens:
      return "length";
    case StopReason::kEndOfGeneration:
      return "eog";
    case StopReason::kStopString:
      return "stop";
    case StopReason::kContextFull:
      return "context";
    case StopReason::kCancelled:
      return "cancel";
  }
  return "?";
}

StopMatcher::StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
  std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
  for (const auto& s : stops_) max_stop_ = std::max(max_stop_, s.size());
}

bool StopMatcher::push(std::string_view piece) {
  const size_t old_size = text_.size();
  text_.append(piece);
  // A match must end inside the new piece, so it starts at most max_stop_-1 bytes earlier.
  const size_t from = old_size > max_stop_ ? old_size - max_stop_ : 0;
  size_t cut = std::string::npos;
  for (const auto& s : stops_) {
    const size_t at = text_.find(s, from);
    if (at != std::string::npos) cut = std::min(cut, at);
  }
  if (cut != std::string::npos) {
    text_.resize(cut);
    safe_ = text_.size();
    return true;
  }
  // Hold back the longest suffix that is a proper prefix of some stop string.
  size_t hold = 0;
  for (const auto& s : stops_) {
    for (size_t len = std::min(s.size() - 1, text_.size()); len > hold; --len) {
      if (text_.compare(text_.size() - len, len, s, 0, len) == 0) {
        hold = len;
        break;
      }
    }
  }
  safe_ = std::max(safe_, text_.size() - hold);
  return false;
}

void top_k_logits(std::span<const float> logits, int k,
                  std::vector<std::pair<int32_t, float>>& out) {
  out.clear();
  if (k <= 0) return;
  auto better = [](const std::pair<int32_t, float>& a, const std::pair<int32_t, float>& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  };
  // Min-heap (by `better`) of the best k seen so far.
  for (size_t i = 0; i < logits.size(); ++i) {
    std::pair<int32_t, float> c{static_cast<int32_t>(i), logits[i]};
    if (out.size() < static_cast<size_t>(k)) {
      out.push_back(c);
      std::push_heap(out.begin(), out.end(), better);
    } else if (better(c, out.front())) {
      std::pop_heap(out.begin(), out.end(), better);
      out.back() = c;
      std::push_heap(out.begin(), out.end(), better);
    }
  }
  std::sort_heap(out.begin(), out.end(), better);
}

Result<GenerateResult> generate(Session& session, std::span<const int32_t> prompt,
                                const GenerateOptions& options, const TokenCallback& on_token) {
  using Clock = std::chrono::steady_clock;
  const tokenizer::Tokenizer* tok = session.model().tokenizer();
  if (!tok) return Error{"generate: the model was loaded without a tokenizer"};
  if (prompt.empty()) return Error{"generate: empty prompt"};
  const int n_vocab = session.model().config().n_vocab;

  GenerateResult r;
  r.ids.reserve(static_cast<size_t>(std::max(options.max_tokens, 0)));
  if (options.top_logits > 0) r.top.reserve(static_cast<size_t>(std::max(options.max_tokens, 0)));
  Sampler sampler(options.sampling, n_vocab);
  if (options.count_prompt_penalties) {
    for (int32_t id : prompt) sampler.accept(id);
  }
  tokenizer::StreamDecoder decoder(*tok, options.render_special);
  StopMatcher stops(options.stop);
  size_t streamed = 0;  // bytes of stops.text() handed to on_token

  const auto t0 = Clock::now();
  SMOL_TRY(session.eval(prompt));
  r.n_prompt = static_cast<int>(prompt.size());
  const auto t1 = Clock::now();
  r.prefill_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();

  for (int step = 0;; ++step) {
    if (options.stop_flag && options.stop_flag->load(std::memory_order_relaxed)) {
      r.stop_reason = StopReason::kCancelled;
      break;
    }
    if (step >= options.max_tokens) {
      r.stop_reason = StopReason::kMaxTokens;
      break;
    }
    std::span<float> logits = session.logits();
    if (options.top_logits > 0) {
      r.top.emplace_back();
      top_k_logits(logits, options.top_logits, r.top.back());
    }
    const int32_t id = sampler.sample(logits);
    sampler.accept(id);
    r.ids.push_back(id);

    if (options.stop_at_eog && tok->is_eog(id)) {
      r.stop_reason = StopReason::kEndOfGeneration;
      break;
    }
    auto piece = decoder.push(id);
    if (!piece.ok()) return Error{"generate: " + piece.error()};
    const bool hit_stop = stops.push(*piece);
    const std::string_view fresh =
        std::string_view(stops.text()).substr(streamed, stops.safe_size() - streamed);
    streamed = stops.safe_size();
    if (on_token && !on_token(id, fresh)) {
      r.stop_reason = StopReason::kCancelled;
      break;
    }
    if (hit_stop) {
      r.stop_reason = StopReason::kStopString;
      break;
    }
    if (step + 1 >= options.max_tokens) {
      r.stop_reason = StopReason::kMaxTokens;
      break;
    }
    if (session.n_past() >= session.n_ctx()) {
      r.stop_reason = StopReason::kContextFull;
      break;
    }
    const int32_t next[1] = {id};
    SMOL_TRY(session.eval(next));
    ++r.n_decode;
  }
  r.decode_ms = std::chrono::duration<double, std::milli>(Clock::now() - t1).count();

  if (r.stop_reason != StopReason::kStopString) {
    stops.push(decoder.flush());  // an unfinished UTF-8 sequence becomes U+FFFD
  }
  r.text = stops.text();
  if (on_token && streamed < r.text.size() && r.stop_reason != StopReason::kCancelled) {
    on_token(-1, std::string_view(r.text).substr(streamed));
  }
  return r;
}

}  // namespace smol::engine
