// Terminal input for `smolbot chat`: lines read with read(2) so that SIGINT at the prompt
// interrupts the wait (no SA_RESTART) instead of being swallowed by a buffered stream, and
// multi-line messages (a trailing backslash continues the line; a line of three double quotes
// opens and closes a block). Works the same when stdin is a pipe or a file.
#pragma once

#include <string>

namespace smolbot {

enum class ReadStatus { kOk, kEof, kInterrupted };

class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // One line without its "\n" (a final line without "\n" counts). kInterrupted: a signal
  // arrived while waiting (EINTR); buffered input is kept for the next call.
  ReadStatus read_line(std::string& line);

 private:
  int fd_;
  std::string buffer_;
  bool eof_ = false;
};

// Reads one user message. `prompt` / `continuation` are printed (to stdout) before each line
// when non-empty. A message at EOF inside a block or after a backslash is returned as is.
ReadStatus read_message(LineReader& reader, const char* prompt, const char* continuation,
                        std::string& message);

}  // namespace smolbot
