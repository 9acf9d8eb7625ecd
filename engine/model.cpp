// Model loading: config from metadata, weights bound as zero-copy views with every name, shape
// and type checked here so the forward pass never meets a surprise.
#include <cstdint>
#include <string>

#include "smol/engine.h"
#include "smol/tokenizer_gguf.h"

namespace smol::engine {

namespace {

std::string shape_text(const gguf::TensorInfo& t) {
  std::string s = "[";
  for (uint32_t i = 0; i < t.n_dims; ++i) {
    if (i) s += ", ";
    s += std::to_string(t.ne[i]);
  }
  return s + "]";
}

std::string expected_text(int64_t cols, int64_t rows) {
  return rows == 1 ? "[" + std::to_string(cols) + "]"
                   : "[" + std::to_string(cols) + ", " + std::to_string(rows) + "]";
}

class Binder {
 public:
  explicit Binder(const gguf::File& file) : file_(file) {}

  // A matrix of `rows` rows x `cols` columns (GGUF ne = (cols, rows)) of a type the matmul
  // kernels take.
  Result<WeightView> matrix(const std::string& name, int64_t cols, int64_t rows) {
    const gguf::TensorInfo* t = file_.find_tensor(name);
    if (!t) return Error{"missing tensor " + name};
    if (t->n_dims != 2 || t->ne[0] != cols || t->ne[1] != rows) {
      return Error{"tensor " + name + " has shape " + shape_text(*t) + ", expected " +
                   expected_text(cols, rows)};
    }
    auto type = kernels::quant_type_from_id(static_cast<uint32_t>(t->type));
    if (!type || !kernels::matmul_supports(*type)) {
      return Error{"tensor " + name + " has unsupported type " +
                   std::string(gguf::type_name(t->type))};
    }
    bytes_ += t->n_bytes;
    return WeightView{*type, t->data, rows, cols};
  }

  // An F32 vector of n elements (norm weights).
  Result<const float*> vector(const std::string& name, int64_t n) {
    const gguf::TensorInfo* t = file_.find_tensor(name);
    if (!t) return Error{"missing tensor " + name};
    if (t->n_dims != 1 || t->ne[0] != n) {
      return Error{"tensor " + name + " has shape " + shape_text(*t) + ", expected " +
                   expected_text(n, 1)};
    }
    if (t->type != gguf::TensorType::F32) {
      return Error{"tensor " + name + " has type " + std::string(gguf::type_name(t->type)) +
                   ", expected F32"};
    }
    if (reinterpret_cast<uintptr_t>(t->data) % alignof(float) != 0) {
      return Error{"tensor " + name + " data is not 4-byte aligned"};
    }
    bytes_ += t->n_bytes;
    return reinterpret_cast<const float*>(t->data);
  }

  uint64_t bytes() const { return bytes_; }

 private:
  const gguf::File& file_;
  uint64_t bytes_ = 0;
};

// Assigns a Result's value to `field` or returns its error from the enclosing function.
#define SMOL_BIND(field, expr)                                  \
  do {                                                          \
    auto smol_bind_r_ = (expr);                                 \
    if (!smol_bind_r_.ok()) return Error{smol_bind_r_.error()}; \
    (field) = *smol_bind_r_;                                    \
  } while (0)

Status bind_weights(const gguf::File& file, const ModelConfig& c, ModelWeights& w,
                    uint64_t& bytes) {
  Binder b(file);
  SMOL_BIND(w.token_embd, b.matrix("token_embd.weight", c.n_embd, c.n_vocab));
  SMOL_BIND(w.output_norm, b.vector("output_norm.weight", c.n_embd));
  if (file.find_tensor("output.weight")) {
    SMOL_BIND(w.output, b.matrix("output.weight", c.n_embd, c.n_vocab));
  } else {
    w.output = w.token_embd;  // tied embeddings: the LM head is token_embd
  }
  w.layers.resize(static_cast<size_t>(c.n_layer));
  for (int il = 0; il < c.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    SMOL_BIND(l.attn_norm, b.vector(p + "attn_norm.weight", c.n_embd));
    SMOL_BIND(l.attn_q, b.matrix(p + "attn_q.weight", c.n_embd, c.n_q()));
    SMOL_BIND(l.attn_k, b.matrix(p + "attn_k.weight", c.n_embd, c.n_kv()));
    SMOL_BIND(l.attn_v, b.matrix(p + "attn_v.weight", c.n_embd, c.n_kv()));
    SMOL_BIND(l.attn_output, b.matrix(p + "attn_output.weight", c.n_q(), c.n_embd));
    SMOL_BIND(l.ffn_norm, b.vector(p + "ffn_norm.weight", c.n_embd));
    SMOL_BIND(l.ffn_gate, b.matrix(p + "ffn_gate.weight", c.n_embd, c.n_ff));
    SMOL_BIND(l.ffn_up, b.matrix(p + "ffn_up.weight", c.n_embd, c.n_ff));
    SMOL_BIND(l.ffn_down, b.matrix(p + "ffn_down.weight", c.n_ff, c.n_embd));
    for (const char* bias : {"attn_q.bias", "attn_k.bias", "attn_v.bias", "attn_output.bias"}) {
      if (file.find_tensor(p + bias))
        return Error{"tensor " + p + bias + ": biases are not supported"};
    }
  }
  bytes = b.bytes();
  return {};
}

#undef SMOL_BIND

}  // namespace

Result<std::unique_ptr<Model>> Model::load(const std::string& path, const LoadOptions& options) {
  auto file = gguf::File::open(path);
  if (!file.ok()) return Error{file.error()};  // the reader names the path itself
  std::unique_ptr<Model> model(new Model(std::move(*file)));

  auto config = ModelConfig::from_gguf(model->file_);
  if (!config.ok()) return Error{path + ": " + config.error()};
  model->config_ = std::move(*config);

  if (Status s = bind_weights(model->file_, model->config_, model->weights_, model->weight_bytes_);
      !s.ok()) {
    return Error{path + ": " + s.error()};
  }

  if (options.load_tokenizer) {
    auto tok = tokenizer_from_gguf(model->file_);
    if (!tok.ok()) return Error{path + ": " + tok.error()};
    if (tok->n_vocab() != model->config_.n_vocab) {
      return Error{path + ": tokenizer has " + std::to_string(tok->n_vocab()) +
                   " tokens but the model's vocabulary is " +
                   std::to_string(model->config_.n_vocab)};
    }
    model->tokenizer_.emplace(std::move(*tok));
  }
  return model;
}

}  // namespace smol::engine
