// A micro model written with gguf::Writer (F32 weights, no tokenizer) and an independent
// double-precision forward pass over the same numbers: the executable spec the engine's forward
// pass is checked against (facts §1.4, §1.5: NORM RoPE, NoPE every 4th SmolLM3 layer, GQA).
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "smol/gguf.h"

namespace smol::engine::testing {

struct MicroSpec {
  std::string arch = "smollm3";
  int n_layer = 4;
  int n_embd = 32;
  int n_ff = 48;
  int n_head = 4;
  int n_head_kv = 2;
  int n_vocab = 40;
  int n_ctx = 64;
  float freq_base = 10000.0f;
  float eps = 1e-6f;
  int head_dim() const { return n_embd / n_head; }
};

struct MicroWeights {
  std::vector<float> token_embd;   // [n_vocab][n_embd]
  std::vector<float> output_norm;  // [n_embd]
  struct Layer {
    std::vector<float> attn_norm, wq, wk, wv, wo, ffn_norm, gate, up, down;
  };
  std::vector<Layer> layers;
};

inline MicroWeights make_micro_weights(const MicroSpec& s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  auto randv = [&](size_t n, float scale) {
    std::vector<float> v(n);
    for (auto& x : v) x = nd(rng) * scale;
    return v;
  };
  auto normw = [&](size_t n) {
    std::vector<float> v(n);
    for (auto& x : v) x = 1.0f + 0.1f * nd(rng);
    return v;
  };
  const size_t e = static_cast<size_t>(s.n_embd), f = static_cast<size_t>(s.n_ff);
  const size_t kv = static_cast<size_t>(s.n_head_kv * s.head_dim());
  MicroWeights w;
  w.token_embd = randv(static_cast<size_t>(s.n_vocab) * e, 1.0f);
  w.output_norm = normw(e);
  const float se = 1.0f / std::sqrt(static_cast<float>(e));
  for (int il = 0; il < s.n_layer; ++il) {
    MicroWeights::Layer l;
    l.attn_norm = normw(e);
    l.wq = randv(e * e, se);
    l.wk = randv(kv * e, se);
    l.wv = randv(kv * e, se);
    l.wo = randv(e * e, se);
    l.ffn_norm = normw(e);
    l.gate = randv(f * e, se);
    l.up = randv(f * e, se);
    l.down = randv(e * f, 1.0f / std::sqrt(static_cast<float>(f)));
    w.layers.push_back(std::move(l));
  }
  return w;
}

// Writes the micro model; `skip` names a tensor to leave out, `bad_shape` one to write with
// its two dimensions swapped (to test load errors).
inline Status write_micro_model(const MicroSpec& s, const MicroWeights& w, const std::string& path,
                                const std::string& skip = "", const std::string& bad_shape = "") {
  gguf::Writer wr;
  const std::string a = s.arch;
  wr.set_string("general.architecture", a);
  wr.set_u32(a + ".block_count", static_cast<uint32_t>(s.n_layer));
  wr.set_u32(a + ".context_length", static_cast<uint32_t>(s.n_ctx));
  wr.set_u32(a + ".embedding_length", static_cast<uint32_t>(s.n_embd));
  wr.set_u32(a + ".feed_forward_length", static_cast<uint32_t>(s.n_ff));
  wr.set_u32(a + ".attention.head_count", static_cast<uint32_t>(s.n_head));
  wr.set_u32(a + ".attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  wr.set_f32(a + ".rope.freq_base", s.freq_base);
  wr.set_f32(a + ".attention.layer_norm_rms_epsilon", s.eps);
  wr.set_u32(a + ".vocab_size", static_cast<uint32_t>(s.n_vocab));
  Status st;
  auto add = [&](const std::string& name, const std::vector<float>& data, int64_t cols,
                 int64_t rows) {
    if (!st.ok() || name == skip) return;
    std::vector<int64_t> ne =
        rows > 0 ? std::vector<int64_t>{cols, rows} : std::vector<int64_t>{cols};
    if (name == bad_shape && rows > 0) ne = {rows, cols};
    std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(data.data()),
                                   data.size() * sizeof(float));
    st = wr.add_tensor(name, gguf::TensorType::F32, ne, bytes);
  };
  const int64_t e = s.n_embd, f = s.n_ff, kv = s.n_head_kv * s.head_dim();
  add("token_embd.weight", w.token_embd, e, s.n_vocab);
  add("output_norm.weight", w.output_norm, e, 0);
  for (int il = 0; il < s.n_layer; ++il) {
    const auto& l = w.layers[static_cast<size_t>(il)];
    const std::string p = "blk." + std::to_string(il) + ".";
    add(p + "attn_norm.weight", l.attn_norm, e, 0);
    add(p + "attn_q.weight", l.wq, e, e);
    add(p + "attn_k.weight", l.wk, e, kv);
    add(p + "attn_v.weight", l.wv, e, kv);
    add(p + "attn_output.weight", l.wo, e, e);
    add(p + "ffn_norm.weight", l.ffn_norm, e, 0);
    add(p + "ffn_gate.weight", l.gate, e, f);
    add(p + "ffn_up.weight", l.up, e, f);
    add(p + "ffn_down.weight", l.down, f, e);
  }
  if (!st.ok()) return st;
  return wr.write(path);
}

// Double-precision reference: logits after every position of `tokens`: [n][n_vocab].
inline std::vector<double> reference_logits(const MicroSpec& s, const MicroWeights& w,
                                            const std::vector<int32_t>& tokens) {
  const int e = s.n_embd, hd = s.head_dim(), kvw = s.n_head_kv * hd, f = s.n_ff;
  const size_t n = tokens.size();
  auto matvec = [](const std::vector<float>& W, const std::vector<double>& x, int rows, int cols) {
    std::vector<double> y(static_cast<size_t>(rows), 0.0);
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c)
        y[size_t(r)] += double(W[size_t(r) * size_t(cols) + size_t(c)]) * x[size_t(c)];
    }
    return y;
  };
  auto rmsnorm = [&](const std::vector<double>& x, const std::vector<float>& g) {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double scale = 1.0 / std::sqrt(ss / double(x.size()) + double(s.eps));
    std::vector<double> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * double(g[i]);
    return y;
  };
  auto rope = [&](std::vector<double>& v, int heads, int pos) {
    for (int h = 0; h < heads; ++h) {
      for (int i = 0; i < hd / 2; ++i) {
        const double theta = pos * std::pow(double(s.freq_base), -2.0 * i / hd);
        double& a = v[size_t(h * hd + 2 * i)];
        double& b = v[size_t(h * hd + 2 * i + 1)];
        const double x0 = a, x1 = b;
        a = x0 * std::cos(theta) - x1 * std::sin(theta);
        b = x0 * std::sin(theta) + x1 * std::cos(theta);
      }
    }
  };
  std::vector<std::vector<double>> x(n);
  for (size_t t = 0; t < n; ++t) {
    x[t].assign(w.token_embd.begin() + long(tokens[t]) * e,
                w.token_embd.begin() + long(tokens[t] + 1) * e);
  }
  for (int il = 0; il < s.n_layer; ++il) {
    const auto& l = w.layers[size_t(il)];
    const bool use_rope = s.arch != "smollm3" || (il + 1) % 4 != 0;
    std::vector<std::vector<double>> q(n), k(n), v(n);
    for (size_t t = 0; t < n; ++t) {
      auto h = rmsnorm(x[t], l.attn_norm);
      q[t] = matvec(l.wq, h, e, e);
      k[t] = matvec(l.wk, h, kvw, e);
      v[t] = matvec(l.wv, h, kvw, e);
      if (use_rope) {
        rope(q[t], s.n_head, int(t));
        rope(k[t], s.n_head_kv, int(t));
      }
    }
    for (size_t t = 0; t < n; ++t) {
      std::vector<double> att(size_t(e), 0.0);
      for (int h = 0; h < s.n_head; ++h) {
        const int g = h / (s.n_head / s.n_head_kv);
        std::vector<double> sc(t + 1);
        double mx = -1e300;
        for (size_t p = 0; p <= t; ++p) {
          double d = 0;
          for (int i = 0; i < hd; ++i) d += q[t][size_t(h * hd + i)] * k[p][size_t(g * hd + i)];
          sc[p] = d / std::sqrt(double(hd));
          mx = std::max(mx, sc[p]);
        }
        double sum = 0;
        for (auto& z : sc) sum += (z = std::exp(z - mx));
        for (size_t p = 0; p <= t; ++p) {
          for (int i = 0; i < hd; ++i)
            att[size_t(h * hd + i)] += sc[p] / sum * v[p][size_t(g * hd + i)];
        }
      }
      auto o = matvec(l.wo, att, e, e);
      for (int i = 0; i < e; ++i) x[t][size_t(i)] += o[size_t(i)];
      auto h2 = rmsnorm(x[t], l.ffn_norm);
      auto gt = matvec(l.gate, h2, f, e);
      auto up = matvec(l.up, h2, f, e);
      for (int i = 0; i < f; ++i)
        gt[size_t(i)] = gt[size_t(i)] / (1.0 + std::exp(-gt[size_t(i)])) * up[size_t(i)];
      auto d = matvec(l.down, gt, e, f);
      for (int i = 0; i < e; ++i) x[t][size_t(i)] += d[size_t(i)];
    }
  }
  std::vector<double> out;
  for (size_t t = 0; t < n; ++t) {
    auto h = rmsnorm(x[t], w.output_norm);
    auto lg = matvec(w.token_embd, h, s.n_vocab, e);
    out.insert(out.end(), lg.begin(), lg.end());
  }
  return out;
}

}  // namespace smol::engine::testing
