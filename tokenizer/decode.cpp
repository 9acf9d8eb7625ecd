// Ids -> bytes, and the streaming decoder.
#include "impl.h"
#include "smol/tokenizer.h"
#include "utf8.h"

namespace smol::tokenizer {

Status Tokenizer::append_piece(int32_t id, bool render_special, std::string& out) const {
  const detail::TokenizerData& t = *impl_;
  if (id < 0 || id >= t.n_vocab) {
    return Error{"tokenizer: token id " + std::to_string(id) + " is outside [0, " +
                 std::to_string(t.n_vocab) + ")"};
  }
  switch (t.visibility[id]) {
    case PieceVisibility::kAlways:
      out += t.pieces[id];
      break;
    case PieceVisibility::kWithSpecial:
      if (render_special) out += t.pieces[id];
      break;
    case PieceVisibility::kNever:
      break;
  }
  return {};
}

Result<std::string> Tokenizer::token_to_piece(int32_t id, bool render_special) const {
  std::string out;
  SMOL_TRY(append_piece(id, render_special, out));
  return out;
}

Result<std::string> Tokenizer::decode(std::span<const int32_t> ids, bool render_special) const {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    Status s = append_piece(ids[i], render_special, out);
    if (!s.ok()) return Error{s.error() + " (position " + std::to_string(i) + ")"};
  }
  return out;
}

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool render_special)
    : tokenizer_(tokenizer), render_special_(render_special) {}

Result<std::string> StreamDecoder::push(int32_t id) {
  std::string bytes = pending_;
  SMOL_TRY(tokenizer_.append_piece(id, render_special_, bytes));
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const int n = utf8::valid_prefix(std::string_view(bytes).substr(i));
    if (n > 0) {
      out.append(bytes, i, static_cast<size_t>(n));
      i += static_cast<size_t>(n);
    } else if (n == 0) {
      out += utf8::kReplacement;
      ++i;
    } else {  // an unfinished character at the end: wait for the next token
      break;
    }
  }
  pending_.assign(bytes, i, std::string::npos);
  return out;
}

std::string StreamDecoder::flush() {
  if (pending_.empty()) return {};
  pending_.clear();
  return std::string(utf8::kReplacement);
}

}  // namespace smol::tokenizer
