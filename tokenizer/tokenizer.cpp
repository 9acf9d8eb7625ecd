// Tokenizer construction (validation, tables) and encode().
#include "smol/tokenizer.h"

#include <algorithm>
#include <array>
#include <limits>

#include "bpe.h"
#include "byte_level.h"
#include "impl.h"
#include "smol/pretokenize.h"
#include "utf8.h"

namespace smol::tokenizer {

namespace {

// Token texts llama.cpp treats as end-of-generation (in addition to eos_id) for vocabularies of
// this family; such tokens are forced to CONTROL, as llama.cpp does.
constexpr std::array<std::string_view, 5> kEogTexts = {
    "<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|eom_id|>", "<|endoftext|>"};

std::string byte_level_encode(std::string_view bytes) {
  std::string s;
  for (char ch : bytes) utf8::append(s, byte_level::kTables.byte_to_cp[static_cast<uint8_t>(ch)]);
  return s;
}

// Bytes a NORMAL token stands for. A character outside the byte-level alphabet (not produced
// by the GGUF converter) is kept as its UTF-8 text.
std::string byte_level_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const size_t start = i;
    const uint32_t cp = utf8::decode_valid(text, i);
    const int b = byte_level::cp_to_byte(cp);
    if (b >= 0) {
      out.push_back(static_cast<char>(b));
    } else {
      out.append(text.substr(start, i - start));
    }
  }
  return out;
}

std::string quoted(std::string_view s) {
  constexpr size_t kMax = 60;
  std::string q = "'";
  q.append(s.substr(0, kMax));
  if (s.size() > kMax) q += "...";
  return q + "'";
}

}  // namespace

std::optional<size_t> find_invalid_utf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<uint8_t>(text[i]);
    if (b < 0x80) {  // ASCII fast path
      ++i;
      continue;
    }
    const int n = utf8::valid_prefix(text.substr(i));
    if (n <= 0) return i;
    i += static_cast<size_t>(n);
  }
  return std::nullopt;
}

Tokenizer::Tokenizer(std::shared_ptr<const detail::TokenizerData> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

Result<Tokenizer> Tokenizer::create(Vocab vocab) {
  const size_t n = vocab.tokens.size();
  if (n == 0) return Error{"tokenizer: the vocabulary is empty"};
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max() / 2)) {
    return Error{"tokenizer: vocabulary of " + std::to_string(n) + " tokens is too large"};
  }
  if (vocab.token_types.size() != n) {
    return Error{"tokenizer: " + std::to_string(n) + " tokens but " +
                 std::to_string(vocab.token_types.size()) + " token types"};
  }
  const auto n_vocab = static_cast<int32_t>(n);
  for (int32_t id : {vocab.bos_id, vocab.eos_id}) {
    if (id < -1 || id >= n_vocab) {
      return Error{"tokenizer: special token id " + std::to_string(id) + " is outside [0, " +
                   std::to_string(n_vocab) + ")"};
    }
  }
  if (vocab.add_bos && vocab.bos_id < 0) {
    return Error{"tokenizer: add_bos is set but there is no bos token id"};
  }

  auto impl = std::make_shared<detail::TokenizerData>();
  detail::TokenizerData& t = *impl;
  t.n_vocab = n_vocab;
  t.bos_id = vocab.bos_id;
  t.eos_id = vocab.eos_id;
  t.add_bos = vocab.add_bos;
  t.tokens = std::move(vocab.tokens);
  t.types.resize(n);
  t.token_to_id.reserve(n);
  for (int32_t id = 0; id < n_vocab; ++id) {
    const int32_t type = vocab.token_types[id];
    if (type < 1 || type > 6) {
      return Error{"tokenizer: token " + std::to_string(id) + " " + quoted(t.tokens[id]) +
                   " has unknown token type " + std::to_string(type) + " (expected 1..6)"};
    }
    if (find_invalid_utf8(t.tokens[id])) {
      return Error{"tokenizer: token " + std::to_string(id) + " is not valid UTF-8"};
    }
    t.types[id] = static_cast<TokenType>(type);
    t.token_to_id[t.tokens[id]] = id;  // a duplicate text maps to its last id, as in llama.cpp
  }

  // End of generation; such tokens must be CONTROL so that they are never rendered or matched
  // by accident.
  t.is_eog.assign(n, 0);
  for (std::string_view text : kEogTexts) {
    if (auto it = t.token_to_id.find(text); it != t.token_to_id.end()) {
      t.is_eog[it->second] = 1;
      t.types[it->second] = TokenType::kControl;
    }
  }
  if (t.eos_id >= 0) t.is_eog[t.eos_id] = 1;
  for (int32_t id = 0; id < n_vocab; ++id) {
    if (t.is_eog[id]) t.eog_ids.push_back(id);
  }

  // Symbols: byte-level characters, then merges.
  auto symbol_of = [&](std::string_view text) -> int32_t {
    if (auto it = t.token_to_id.find(text); it != t.token_to_id.end()) return it->second;
    t.virtual_texts.emplace_back(text);
    return n_vocab + static_cast<int32_t>(t.virtual_texts.size()) - 1;
  };
  for (int b = 0; b < 256; ++b) {
    t.byte_symbol[b] = symbol_of(byte_level_encode(std::string(1, static_cast<char>(b))));
  }
  t.merges.reserve(vocab.merges.size());
  std::string joined;
  for (size_t i = 0; i < vocab.merges.size(); ++i) {
    const std::string& m = vocab.merges[i];
    const size_t space = m.find(' ', 1);
    const std::string where = "tokenizer: merge #" + std::to_string(i) + " " + quoted(m);
    if (space == std::string::npos) return Error{where + " is not of the form 'left right'"};
    const std::string_view left = std::string_view(m).substr(0, space);
    const std::string_view right = std::string_view(m).substr(space + 1);
    const auto l = t.token_to_id.find(left), r = t.token_to_id.find(right);
    if (l == t.token_to_id.end()) return Error{where + ": " + quoted(left) + " is not a token"};
    if (r == t.token_to_id.end()) return Error{where + ": " + quoted(right) + " is not a token"};
    joined.assign(left);
    joined.append(right);
    // A repeated pair keeps its first (best) rank, as llama.cpp's map insertion does.
    const int32_t result = symbol_of(joined);
    t.merges.insert(l->second, r->second, {static_cast<int32_t>(i), result});
  }

  // Special tokens and rendering.
  std::vector<SpecialMatcher::Entry> entries;
  t.pieces.resize(n);
  t.visibility.resize(n);
  for (int32_t id = 0; id < n_vocab; ++id) {
    switch (t.types[id]) {
      case TokenType::kNormal:
        t.pieces[id] = byte_level_decode(t.tokens[id]);
        t.visibility[id] = PieceVisibility::kAlways;
        break;
      case TokenType::kUserDefined:
        t.pieces[id] = t.tokens[id];
        t.visibility[id] = PieceVisibility::kAlways;
        entries.push_back({id, t.tokens[id], true});
        break;
      case TokenType::kControl:
      case TokenType::kUnknown:
        t.pieces[id] = t.tokens[id];
        t.visibility[id] = PieceVisibility::kWithSpecial;
        entries.push_back({id, t.tokens[id], false});
        break;
      case TokenType::kUnused:
      case TokenType::kByte:
        t.visibility[id] = PieceVisibility::kNever;
        break;
    }
  }
  t.specials.build(std::move(entries));

  // Whole-piece fast path: a normal token whose BPE (as a piece of its own) is itself.
  {
    BpeWorkspace ws;
    std::vector<int32_t> ids, whole;
    for (int32_t id = 0; id < n_vocab; ++id) {
      if (t.types[id] != TokenType::kNormal || t.pieces[id].size() < 2) continue;
      if (t.token_to_id.at(t.tokens[id]) != id) continue;
      ids.clear();
      ws.encode(t, t.pieces[id], ids);
      if (ids.size() == 1 && ids[0] == id) whole.push_back(id);
    }
    t.whole_piece.build(&t.pieces, whole);
  }
  return Tokenizer(std::move(impl));
}

Result<std::vector<int32_t>> Tokenizer::encode(std::string_view text, bool parse_special) const {
  const detail::TokenizerData& t = *impl_;
  if (auto bad = find_invalid_utf8(text)) {
    return Error{"tokenizer: input is not valid UTF-8 at byte offset " + std::to_string(*bad)};
  }
  if (text.size() > std::numeric_limits<int32_t>::max()) {
    return Error{"tokenizer: input of " + std::to_string(text.size()) + " bytes is too long"};
  }
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (t.add_bos) out.push_back(t.bos_id);

  std::vector<Fragment> fragments;
  t.specials.partition(text, parse_special, fragments);
  Llama3Splitter splitter;
  std::vector<std::string_view> pieces;
  BpeWorkspace bpe;
  for (const Fragment& f : fragments) {
    if (f.token >= 0) {
      out.push_back(f.token);
      continue;
    }
    splitter.split(text.substr(f.offset, f.length), pieces);
    for (std::string_view piece : pieces) {
      if (piece.size() > 1) {
        if (const int32_t id = t.whole_piece.find(piece); id >= 0) {
          out.push_back(id);
          continue;
        }
      }
      bpe.encode(t, piece, out);
    }
  }
  return out;
}

std::optional<int32_t> Tokenizer::special_token(std::string_view text) const {
  const auto it = impl_->token_to_id.find(text);
  if (it == impl_->token_to_id.end()) return std::nullopt;
  const TokenType type = impl_->types[it->second];
  if (type == TokenType::kControl || type == TokenType::kUserDefined ||
      type == TokenType::kUnknown) {
    return it->second;
  }
  return std::nullopt;
}

std::optional<int32_t> Tokenizer::find_token(std::string_view text) const {
  const auto it = impl_->token_to_id.find(text);
  if (it == impl_->token_to_id.end()) return std::nullopt;
  return it->second;
}

bool Tokenizer::is_eog(int32_t id) const {
  return id >= 0 && id < impl_->n_vocab && impl_->is_eog[id];
}
const std::vector<int32_t>& Tokenizer::eog_ids() const { return impl_->eog_ids; }
int32_t Tokenizer::n_vocab() const { return impl_->n_vocab; }
int32_t Tokenizer::bos_id() const { return impl_->bos_id; }
int32_t Tokenizer::eos_id() const { return impl_->eos_id; }
bool Tokenizer::add_bos() const { return impl_->add_bos; }

const std::string& Tokenizer::token_text(int32_t id) const {
  SMOL_CHECK(id >= 0 && id < impl_->n_vocab, "token id out of range");
  return impl_->tokens[id];
}

TokenType Tokenizer::token_type(int32_t id) const {
  SMOL_CHECK(id >= 0 && id < impl_->n_vocab, "token id out of range");
  return impl_->types[id];
}

}  // namespace smol::tokenizer
