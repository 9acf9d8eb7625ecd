// Line and message reading for `smolbot chat` (see chat_input.h). No command is registered here.
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "chat_input.h"

namespace smolbot {

ReadStatus LineReader::read_line(std::string& line) {
  for (;;) {
    const size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      line.assign(buffer_, 0, nl);
      buffer_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return ReadStatus::kOk;
    }
    if (eof_) {
      if (buffer_.empty()) return ReadStatus::kEof;
      line = std::move(buffer_);
      buffer_.clear();
      return ReadStatus::kOk;
    }
    char chunk[4096];
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
    } else if (n == 0) {
      eof_ = true;
    } else if (errno == EINTR) {
      return ReadStatus::kInterrupted;
    } else {
      eof_ = true;  // a read error ends the input like EOF
    }
  }
}

namespace {

void show(const char* text) {
  if (text && *text) {
    std::fputs(text, stdout);
    std::fflush(stdout);
  }
}

}  // namespace

ReadStatus read_message(LineReader& reader, const char* prompt, const char* continuation,
                        std::string& message) {
  message.clear();
  std::string line;
  show(prompt);
  ReadStatus st = reader.read_line(line);
  if (st != ReadStatus::kOk) return st;

  if (line == "\"\"\"") {  // block: everything up to the closing line, verbatim
    bool first = true;
    for (;;) {
      show(continuation);
      st = reader.read_line(line);
      if (st == ReadStatus::kInterrupted) return st;
      if (st == ReadStatus::kEof || line == "\"\"\"") return ReadStatus::kOk;
      if (!first) message += '\n';
      message += line;
      first = false;
    }
  }
  for (;;) {
    const bool more = !line.empty() && line.back() == '\\';
    if (!more) {
      message += line;
      return ReadStatus::kOk;
    }
    line.pop_back();
    message += line;
    message += '\n';
    show(continuation);
    st = reader.read_line(line);
    if (st == ReadStatus::kInterrupted) return st;
    if (st == ReadStatus::kEof) return ReadStatus::kOk;
  }
}

}  // namespace smolbot
