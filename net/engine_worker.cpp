#include "engine_worker.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "text_utils.h"

namespace smol::net {

namespace {

using Clock = std::chrono::steady_clock;

// Prompt tokens evaluated per scheduling step, so a long prefill does not stall other streams
// for its whole duration and cancellation is noticed between chunks.
constexpr size_t kPrefillChunk = 256;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t n = std::min(a.size(), b.size()), i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

struct Slot {
  std::unique_ptr<Sequence> sequence;
  bool busy = false;
  uint64_t last_used = 0;
};

// A job's decoding state while it is active.
struct ActiveJob {
  std::shared_ptr<Generation> generation;
  Slot* slot = nullptr;
  std::vector<int32_t> prompt;
  size_t prefilled = 0;  // prompt tokens known to be in the cache
  int cached = -1;       // tokens reused from the cache by the first prefill chunk
  std::unique_ptr<OutputParser> parser;
  std::unique_ptr<StopMatcher> stop;
  std::string pending_bytes;  // an incomplete UTF-8 character from the last token
  int generated = 0;
  bool saw_tool_call = false;
  Clock::time_point decode_start, first_token;
};

}  // namespace

struct EngineWorker::Impl {
  BackendFactory factory;
  int max_queue;
  OnFinished on_finished;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<std::shared_ptr<Generation>> pending;
  std::deque<std::packaged_task<void(Backend&)>> calls;
  std::atomic<int> running{0};
  bool stopping = false;
  std::atomic<bool> ready{false};
  std::string load_error;
  Metrics metrics;

  std::unique_ptr<Backend> backend;
  BackendInfo info;
  std::vector<std::unique_ptr<Slot>> slots;
  std::vector<ActiveJob> active;
  uint64_t tick = 0;
  std::thread thread;

  void run();
  void admit(std::shared_ptr<Generation> generation);
  Slot* pick_slot(const std::vector<int32_t>& prompt);
  // One round for a job: a prefill chunk, or the end of the job, or (true) the job wants a token,
  // which the round's one Backend::step_many call produces for every such job together.
  bool wants_token(ActiveJob& job);
  void take_token(ActiveJob& job, const Result<int32_t>& token);
  void emit_text(ActiveJob& job, const std::string& bytes, bool flush);
  void emit_pieces(ActiveJob& job, std::vector<ParsedPiece> pieces);
  void end(ActiveJob& job, const std::string& reason);
  void fail(ActiveJob& job, int code, const std::string& type, const std::string& message);
  void count(const std::function<void(Metrics&)>& f) {
    std::lock_guard lock(mu);
    f(metrics);
  }
};

EngineWorker::EngineWorker(BackendFactory factory, int max_queue, OnFinished on_finished)
    : impl_(std::make_unique<Impl>()) {
  impl_->factory = std::move(factory);
  impl_->max_queue = max_queue;
  impl_->on_finished = std::move(on_finished);
  impl_->thread = std::thread([this] { impl_->run(); });
}

EngineWorker::~EngineWorker() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->thread.join();
}

bool EngineWorker::ready() const { return impl_->ready.load(); }

std::string EngineWorker::load_error() const {
  std::lock_guard lock(impl_->mu);
  return impl_->load_error;
}

const BackendInfo& EngineWorker::info() const { return impl_->info; }

bool EngineWorker::submit(std::shared_ptr<Generation> generation) {
  {
    std::lock_guard lock(impl_->mu);
    int in_flight = static_cast<int>(impl_->pending.size()) + impl_->running.load();
    if (impl_->stopping || in_flight >= impl_->max_queue) {
      ++impl_->metrics.rejected_queue_full;
      return false;
    }
    impl_->pending.push_back(std::move(generation));
    ++impl_->metrics.generations_started;
  }
  impl_->cv.notify_all();
  return true;
}

bool EngineWorker::call(const std::function<void(Backend&)>& fn) {
  if (!ready()) return false;
  std::packaged_task<void(Backend&)> task(fn);
  std::future<void> done = task.get_future();
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return false;
    impl_->calls.push_back(std::move(task));
  }
  impl_->cv.notify_all();
  try {
    done.get();
  } catch (const std::future_error&) {
    return false;  // dropped at shutdown
  }
  return true;
}

Metrics EngineWorker::metrics() const {
  std::lock_guard lock(impl_->mu);
  Metrics m = impl_->metrics;
  m.queued = static_cast<int>(impl_->pending.size());
  m.running = impl_->running.load();
  return m;
}

void EngineWorker::Impl::run() {
  auto loaded = factory();
  {
    std::lock_guard lock(mu);
    if (loaded.ok()) {
      backend = std::move(loaded).value();
      info = backend->info();
    } else {
      load_error = loaded.error();
      std::fprintf(stderr, "smolbot: model load failed: %s\n", load_error.c_str());
    }
  }
  if (backend) ready.store(true);
  const size_t n_slots = static_cast<size_t>(std::max(1, info.n_slots));

  for (;;) {
    std::deque<std::packaged_task<void(Backend&)>> todo;
    std::vector<std::shared_ptr<Generation>> admitted;
    {
      std::unique_lock lock(mu);
      cv.wait(lock,
              [&] { return stopping || !pending.empty() || !calls.empty() || !active.empty(); });
      if (stopping) break;
      todo.swap(calls);
      while (!pending.empty() && active.size() + admitted.size() < n_slots) {
        admitted.push_back(std::move(pending.front()));
        pending.pop_front();
      }
    }
    for (auto& task : todo) task(*backend);
    for (auto& g : admitted) admit(std::move(g));
    std::vector<ActiveJob*> decoding;
    std::vector<Sequence*> sequences;
    std::vector<Sampling> sampling;
    for (auto& job : active) {
      if (!wants_token(job)) continue;
      decoding.push_back(&job);
      sequences.push_back(job.slot->sequence.get());
      sampling.push_back(job.generation->request().sampling);
    }
    if (!decoding.empty()) {
      auto tokens = backend->step_many(sequences, sampling);
      SMOL_CHECK(tokens.size() == decoding.size(), "step_many: one result per sequence");
      for (size_t i = 0; i < decoding.size(); ++i) take_token(*decoding[i], tokens[i]);
    }
    std::erase_if(active, [](const ActiveJob& j) { return j.generation == nullptr; });
    running.store(static_cast<int>(active.size()));
  }

  // Shutdown: nothing is persisted for unfinished jobs; their consumers see an error.
  std::lock_guard lock(mu);
  for (auto& job : active) job.generation->fail(503, "unavailable_error", "server shutting down");
  for (auto& g : pending) g->fail(503, "unavailable_error", "server shutting down");
  for (auto& c : calls) c.reset();
  active.clear();
  pending.clear();
}

Slot* EngineWorker::Impl::pick_slot(const std::vector<int32_t>& prompt) {
  const size_t n_slots = static_cast<size_t>(std::max(1, info.n_slots));
  Slot* best = nullptr;
  size_t best_prefix = 0;
  for (auto& s : slots) {
    if (s->busy) continue;
    size_t p = common_prefix(s->sequence->tokens(), prompt);
    // Longest reusable prefix wins; ties go to the least recently used cache.
    if (!best || p > best_prefix || (p == best_prefix && s->last_used < best->last_used)) {
      best = s.get();
      best_prefix = p;
    }
  }
  if ((!best || best_prefix == 0) && slots.size() < n_slots) {
    slots.push_back(std::make_unique<Slot>());
    slots.back()->sequence = backend->new_sequence();
    return slots.back().get();
  }
  return best;
}

void EngineWorker::Impl::admit(std::shared_ptr<Generation> generation) {
  ActiveJob job;
  job.generation = std::move(generation);
  const GenerationRequest& req = job.generation->request();
  if (!backend) {
    job.generation->fail(503, "unavailable_error", "model not loaded: " + load_error);
    count([](Metrics& m) { ++m.generations_failed; });
    return;
  }
  if (job.generation->cancelled()) {
    job.generation->fail(499, "cancelled_error", "cancelled before start");
    count([](Metrics& m) { ++m.generations_cancelled; });
    return;
  }
  auto text = backend->render(req.messages, req.prompt, true);
  if (!text.ok()) {
    job.generation->fail(400, "invalid_request_error", text.error());
    count([](Metrics& m) { ++m.generations_failed; });
    return;
  }
  auto tokens = backend->tokenize(*text);
  if (!tokens.ok()) {
    job.generation->fail(400, "invalid_request_error", tokens.error());
    count([](Metrics& m) { ++m.generations_failed; });
    return;
  }
  job.prompt = std::move(tokens).value();
  if (static_cast<int>(job.prompt.size()) >= info.n_ctx) {
    job.generation->fail(400, "invalid_request_error",
                         "context exceeded: the prompt has " + std::to_string(job.prompt.size()) +
                             " tokens, the context size is " + std::to_string(info.n_ctx));
    count([](Metrics& m) { ++m.generations_failed; });
    return;
  }
  job.slot = pick_slot(job.prompt);
  SMOL_CHECK(job.slot != nullptr, "no idle slot although fewer jobs than slots are active");
  job.slot->busy = true;
  job.slot->last_used = ++tick;
  job.parser = backend->new_parser(text.value());
  job.stop = std::make_unique<StopMatcher>(req.stop);
  active.push_back(std::move(job));
}

bool EngineWorker::Impl::wants_token(ActiveJob& job) {
  Generation& gen = *job.generation;
  if (gen.cancelled()) {
    end(job, "cancelled");
    return false;
  }
  Sequence& seq = *job.slot->sequence;
  if (job.prefilled < job.prompt.size()) {
    size_t upto = std::min(job.prompt.size(), job.prefilled + kPrefillChunk);
    auto reused = seq.prefill(std::span(job.prompt.data(), upto));
    if (!reused.ok()) {
      fail(job, 500, "server_error", "prefill failed: " + reused.error());
      return false;
    }
    if (job.cached < 0) job.cached = *reused;
    job.prefilled = upto;
    if (job.prefilled == job.prompt.size()) {
      gen.mark_admitted(static_cast<int>(job.prompt.size()), job.cached);
      job.decode_start = Clock::now();
    }
    return false;
  }
  const int max_tokens = job.generation->request().max_tokens;
  if (job.generated >= max_tokens || static_cast<int>(seq.tokens().size()) >= info.n_ctx) {
    end(job, "length");
    return false;
  }
  return true;
}

void EngineWorker::Impl::take_token(ActiveJob& job, const Result<int32_t>& token) {
  if (!token.ok()) return fail(job, 500, "server_error", "decode failed: " + token.error());
  if (job.generated++ == 0) job.first_token = Clock::now();
  if (backend->is_end_of_generation(*token)) return end(job, "stop");
  int32_t t = *token;
  emit_text(job, backend->detokenize(std::span(&t, 1)), false);
  if (job.stop->stopped()) return end(job, "stop");
}

void EngineWorker::Impl::emit_text(ActiveJob& job, const std::string& bytes, bool flush) {
  job.pending_bytes += bytes;
  std::string text = take_utf8(job.pending_bytes, flush);
  std::vector<ParsedPiece> pieces;
  if (!text.empty()) pieces = job.parser->feed(text);
  if (flush) {
    auto rest = job.parser->finish();
    pieces.insert(pieces.end(), rest.begin(), rest.end());
  }
  emit_pieces(job, std::move(pieces));
  if (flush) {
    std::string held = job.stop->flush();
    if (!held.empty()) job.generation->add_content(PieceKind::kText, held, "");
  }
}

void EngineWorker::Impl::emit_pieces(ActiveJob& job, std::vector<ParsedPiece> pieces) {
  for (auto& p : pieces) {
    if (job.stop->stopped()) return;
    if (p.kind == PieceKind::kText) {
      std::string visible = job.stop->feed(p.text);
      if (!visible.empty()) job.generation->add_content(PieceKind::kText, visible, "");
    } else {
      if (p.kind == PieceKind::kToolCall) job.saw_tool_call = true;
      if (!p.text.empty() || p.kind == PieceKind::kToolCall) {
        job.generation->add_content(p.kind, p.text, p.arguments);
      }
    }
  }
}

void EngineWorker::Impl::end(ActiveJob& job, const std::string& reason) {
  if (!job.stop->stopped()) emit_text(job, "", true);
  GenerationStats stats;
  stats.prompt_tokens = static_cast<int>(job.prompt.size());
  stats.cached_tokens = std::max(0, job.cached);
  stats.generated_tokens = job.generated;
  stats.finish_reason = (reason == "stop" && job.saw_tool_call) ? "tool_calls" : reason;
  const auto now = Clock::now();
  if (job.generated > 0) {
    stats.ttft_ms = ms_between(job.generation->submitted_at, job.first_token);
    double decode_s = ms_between(job.decode_start, now) / 1000.0;
    stats.tokens_per_s = decode_s > 0 ? job.generated / decode_s : 0;
  }
  if (job.prefilled < job.prompt.size()) {
    // Cancelled during prefill: the cache holds a prefix of the prompt, still consistent.
    stats.prompt_tokens = static_cast<int>(job.prompt.size());
  }
  if (on_finished) on_finished(*job.generation, stats);
  job.generation->finish(stats);
  count([&](Metrics& m) {
    ++(reason == "cancelled" ? m.generations_cancelled : m.generations_finished);
    m.prompt_tokens += stats.prompt_tokens;
    m.cached_tokens += stats.cached_tokens;
    m.generated_tokens += stats.generated_tokens;
    if (job.generated > 0) m.decode_seconds += ms_between(job.decode_start, now) / 1000.0;
  });
  job.slot->busy = false;
  job.slot->last_used = ++tick;
  job.generation = nullptr;
}

void EngineWorker::Impl::fail(ActiveJob& job, int code, const std::string& type,
                              const std::string& message) {
  job.generation->fail(code, type, message);
  count([](Metrics& m) { ++m.generations_failed; });
  // The cache may be half-updated; start this slot from scratch next time.
  job.slot->sequence->clear();
  job.slot->busy = false;
  job.generation = nullptr;
}

}  // namespace smol::net
