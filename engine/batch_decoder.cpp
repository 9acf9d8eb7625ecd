// BatchDecoder: one decode token for each of N sessions in one forward pass (engine.h).
// Validation happens here, before anything is touched, so a failed call changes no session.
#include <algorithm>
#include <string>

#include "forward.h"

namespace smol::engine {

struct BatchDecoder::State {
  State(const ModelConfig& c, int max_sessions)
      : run(c, max_sessions, max_sessions), segments(static_cast<size_t>(max_sessions)) {}
  RunState run;                   // B = S = max_sessions; run.logits is [S][n_vocab]
  std::vector<Segment> segments;  // [S] one row each, rebuilt per call (no allocation)
};

BatchDecoder::BatchDecoder(const Model& model, std::unique_ptr<State> state)
    : model_(model), state_(std::move(state)) {}

BatchDecoder::~BatchDecoder() = default;

Result<std::unique_ptr<BatchDecoder>> BatchDecoder::create(const Model& model, int max_sessions) {
  if (max_sessions < 1) {
    return Error{"batch decoder needs max_sessions >= 1, got " + std::to_string(max_sessions)};
  }
  auto state = std::make_unique<State>(model.config(), max_sessions);
  return std::unique_ptr<BatchDecoder>(new BatchDecoder(model, std::move(state)));
}

int BatchDecoder::max_sessions() const { return state_->run.n_seq; }
size_t BatchDecoder::scratch_bytes() const {
  return state_->run.bytes() + state_->segments.size() * sizeof(Segment);
}

Status BatchDecoder::decode(std::span<Session* const> sessions, std::span<const int32_t> tokens) {
  const ModelConfig& c = model_.config();
  const size_t n = sessions.size();
  if (n != tokens.size()) {
    return Error{"batch decode: " + std::to_string(n) + " sessions but " +
                 std::to_string(tokens.size()) + " tokens"};
  }
  if (n == 0) return Error{"batch decode: no sessions"};
  if (n > state_->segments.size()) {
    return Error{"batch decode: " + std::to_string(n) + " sessions exceed the decoder's " +
                 std::to_string(state_->segments.size())};
  }
  // Messages are built only on failure: a good call allocates nothing.
  auto fail = [](size_t i, const std::string& what) {
    return Error{"batch decode: session " + std::to_string(i) + ": " + what};
  };
  for (size_t i = 0; i < n; ++i) {
    Session* s = sessions[i];
    if (s == nullptr) return fail(i, "null");
    if (&s->model() != &model_) return fail(i, "belongs to another model");
    const auto before = sessions.begin() + static_cast<std::ptrdiff_t>(i);
    if (std::find(sessions.begin(), before, s) != before) return fail(i, "appears twice");
    if (tokens[i] < 0 || tokens[i] >= c.n_vocab) {
      return fail(i, "token id " + std::to_string(tokens[i]) + " is outside the vocabulary [0, " +
                         std::to_string(c.n_vocab) + ")");
    }
    if (Status room = s->state_->cache.check_room(1); !room.ok()) return fail(i, room.error());
  }

  // One segment (one row) per session; its attention uses the session's own scratch, which was
  // sized for its cache.
  for (size_t i = 0; i < n; ++i) {
    Session::State& ss = *sessions[i]->state_;
    state_->segments[i] = Segment{&ss.cache, 1, ss.run.attn_scratch};
  }
  RunState& run = state_->run;
  forward(model_, run, std::span(state_->segments).first(n), tokens, nullptr, nullptr);

  const auto n_vocab = static_cast<size_t>(c.n_vocab);
  for (size_t i = 0; i < n; ++i) {
    const float* row = run.logits.data() + i * n_vocab;
    std::copy(row, row + n_vocab, sessions[i]->state_->run.logits.begin());
  }
  return {};
}

}  // namespace smol::engine
