// smolbot tokenize / detokenize: the model file's tokenizer on the command line (no weights are
// loaded, only the tokenizer.ggml.* metadata).
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "args.h"
#include "command.h"
#include "smol/tokenizer.h"
#include "smol/tokenizer_gguf.h"

namespace smolbot {
namespace {

constexpr const char* kTokenizeUsage =
    "usage: smolbot tokenize --model F [--json] [--with-pieces] [--parse-special] "
    "(TEXT | --file F)\n"
    "Prints the token ids of TEXT (or of the file's bytes), space-separated.\n"
    "  --parse-special  recognise control tokens such as <|im_start|> in the text\n"
    "  --with-pieces    also show each token's bytes (control tokens shown; bytes that are not\n"
    "                   whole UTF-8 characters printed as \\xNN)\n"
    "  --json           one JSON object: {\"ids\": [...], \"pieces\": [...]}\n";

constexpr const char* kDetokenizeUsage =
    "usage: smolbot detokenize --model F [--special] ID...\n"
    "Prints the text of the ids (IDs may also be given as 1,2,3), followed by a newline.\n"
    "  --special  render control tokens (<|im_start|>, <think>, ...); hidden by default\n";

// Printable form of a piece: control characters and bytes outside whole UTF-8 characters are
// escaped so that the output stays one valid UTF-8 line.
std::string escape_piece(const std::string& piece) {
  std::string out;
  for (size_t i = 0; i < piece.size();) {
    const auto b = static_cast<unsigned char>(piece[i]);
    const auto bad = smol::tokenizer::find_invalid_utf8(std::string_view(piece).substr(i, 4));
    size_t len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    if (b >= 0x80 && (bad && *bad == 0)) len = 0;  // not a whole character here
    if (len == 0 || i + len > piece.size()) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02X", b);
      out += buf;
      ++i;
    } else if (b == '\n') {
      out += "\\n", ++i;
    } else if (b == '\t') {
      out += "\\t", ++i;
    } else if (b == '\r') {
      out += "\\r", ++i;
    } else if (b == '\\') {
      out += "\\\\", ++i;
    } else if (b < 0x20 || b == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02X", b);
      out += buf;
      ++i;
    } else {
      out.append(piece, i, len);
      i += len;
    }
  }
  return out;
}

// JSON string literal of an already escaped (valid UTF-8, no control characters) piece.
std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

smol::Result<smol::tokenizer::Tokenizer> load(const Args& args) {
  auto model = args.get("--model");
  if (!model) return smol::Error{"--model F is required"};
  return smol::engine::tokenizer_from_gguf_path(*model);
}

int run_tokenize(int argc, char** argv) {
  auto args =
      Args::parse(argc, argv, {"--model", "--file"},
                  {"--json", "--with-pieces", "--parse-special", "--help"}, {{"-m", "--model"}});
  if (!args.ok()) {
    std::fprintf(stderr, "smolbot tokenize: %s\n%s", args.error().c_str(), kTokenizeUsage);
    return 2;
  }
  if (args->has("--help")) {
    std::fputs(kTokenizeUsage, stdout);
    return 0;
  }
  std::string text;
  if (auto file = args->get("--file")) {
    if (!args->positional().empty()) {
      std::fprintf(stderr, "smolbot tokenize: give TEXT or --file, not both\n");
      return 2;
    }
    std::ifstream in(*file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "smolbot tokenize: cannot open %s\n", file->c_str());
      return 1;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  } else if (args->positional().size() == 1) {
    text = args->positional()[0];
  } else {
    std::fprintf(stderr, "smolbot tokenize: expected one TEXT argument (quote it) or --file\n%s",
                 kTokenizeUsage);
    return 2;
  }
  auto tok = load(*args);
  if (!tok.ok()) {
    std::fprintf(stderr, "smolbot tokenize: %s\n", tok.error().c_str());
    return 1;
  }
  auto ids = tok->encode(text, args->has("--parse-special"));
  if (!ids.ok()) {
    std::fprintf(stderr, "smolbot tokenize: %s\n", ids.error().c_str());
    return 1;
  }
  const bool pieces = args->has("--with-pieces");
  auto piece = [&](int32_t id) { return escape_piece(tok->token_to_piece(id, true).value()); };
  if (args->has("--json")) {
    std::string out = "{\"ids\": [";
    for (size_t i = 0; i < ids->size(); ++i) out += (i ? ", " : "") + std::to_string((*ids)[i]);
    out += "]";
    if (pieces) {
      out += ", \"pieces\": [";
      for (size_t i = 0; i < ids->size(); ++i)
        out += (i ? ", " : "") + json_quote(piece((*ids)[i]));
      out += "]";
    }
    std::printf("%s}\n", out.c_str());
  } else if (pieces) {
    for (int32_t id : *ids) std::printf("%d\t%s\n", id, piece(id).c_str());
  } else {
    std::string out;
    for (size_t i = 0; i < ids->size(); ++i) out += (i ? " " : "") + std::to_string((*ids)[i]);
    std::printf("%s\n", out.c_str());
  }
  return 0;
}

int run_detokenize(int argc, char** argv) {
  auto args = Args::parse(argc, argv, {"--model"}, {"--special", "--help"}, {{"-m", "--model"}});
  if (!args.ok()) {
    std::fprintf(stderr, "smolbot detokenize: %s\n%s", args.error().c_str(), kDetokenizeUsage);
    return 2;
  }
  if (args->has("--help")) {
    std::fputs(kDetokenizeUsage, stdout);
    return 0;
  }
  std::vector<int32_t> ids;
  for (const std::string& p : args->positional()) {
    auto part = parse_id_list(p);
    if (!part.ok()) {
      std::fprintf(stderr, "smolbot detokenize: %s\n", part.error().c_str());
      return 2;
    }
    ids.insert(ids.end(), part->begin(), part->end());
  }
  if (ids.empty()) {
    std::fprintf(stderr, "smolbot detokenize: no token ids given\n%s", kDetokenizeUsage);
    return 2;
  }
  auto tok = load(*args);
  if (!tok.ok()) {
    std::fprintf(stderr, "smolbot detokenize: %s\n", tok.error().c_str());
    return 1;
  }
  auto text = tok->decode(ids, args->has("--special"));
  if (!text.ok()) {
    std::fprintf(stderr, "smolbot detokenize: %s\n", text.error().c_str());
    return 1;
  }
  std::fwrite(text->data(), 1, text->size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}

}  // namespace
}  // namespace smolbot

SMOLBOT_COMMAND("tokenize", "token ids of a text (--json, --with-pieces, --parse-special)",
                smolbot::run_tokenize);
SMOLBOT_COMMAND("detokenize", "text of token ids", smolbot::run_detokenize);
