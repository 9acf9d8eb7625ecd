// smolbot subcommands. Each cmd_*.cpp registers itself with SMOLBOT_COMMAND, so adding a
// command never touches main.cpp.
#pragma once

#include <string>
#include <vector>

namespace smolbot {

// argv[0] is the command name; returns the process exit status (0 ok, 1 error, 2 usage).
using CommandFn = int (*)(int argc, char** argv);

struct Command {
  const char* name;
  const char* summary;  // one line for `smolbot --help`
  CommandFn run;
};

bool register_command(const Command& command);
const std::vector<Command>& commands();

}  // namespace smolbot

#define SMOLBOT_CONCAT_(a, b) a##b
#define SMOLBOT_CONCAT(a, b) SMOLBOT_CONCAT_(a, b)
#define SMOLBOT_COMMAND(name, summary, fn)                          \
  static const bool SMOLBOT_CONCAT(smolbot_registered_, __LINE__) = \
      ::smolbot::register_command({name, summary, fn})
