// engine_worker.h (private) — the one thread that owns the model.
//
// Jobs wait in a FIFO queue; up to n_slots of them are active at once, each on its own Sequence
// (KV cache). The loop gives every active job one step per round — a prefill chunk or one token —
// so concurrent streams advance together and a cancelled job stops within one step. The tokens
// of all decoding jobs in a round come from one Backend::step_many call (the engine evaluates
// them in one batched pass over the weights). Model utilities (tokenize, apply-template) run
// between steps on the same thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "smol/chat_service.h"

namespace smol::net {

class EngineWorker {
 public:
  // Called on the worker thread when a job ends normally or is cancelled, before its "done"
  // event is published (so a client that sees "done" also sees the stored answer).
  using OnFinished = std::function<void(Generation& generation, const GenerationStats& stats)>;

  EngineWorker(BackendFactory factory, int max_queue, OnFinished on_finished);
  ~EngineWorker();  // cancels everything and joins

  bool ready() const;
  std::string load_error() const;
  const BackendInfo& info() const;  // valid once ready()

  // False when the queue is full (the caller answers 503).
  bool submit(std::shared_ptr<Generation> generation);
  // Runs fn(backend) on the worker thread and waits; false when the model is not loaded.
  bool call(const std::function<void(Backend&)>& fn);

  Metrics metrics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace smol::net
