// smolbot: the single user-facing binary. Subcommands live in cmd_*.cpp and register
// themselves (command.h); this file only lists and dispatches them.
#include <cstdio>
#include <cstring>
#include <string>

#include "command.h"

namespace smolbot {

namespace {
std::vector<Command>& registry() {
  static std::vector<Command> all;
  return all;
}
}  // namespace

bool register_command(const Command& command) {
  registry().push_back(command);
  return true;
}

const std::vector<Command>& commands() { return registry(); }

}  // namespace smolbot

static void print_usage(FILE* out) {
  std::fprintf(out, "usage: smolbot <command> [options]\n\ncommands:\n");
  for (const auto& c : smolbot::commands()) std::fprintf(out, "  %-14s %s\n", c.name, c.summary);
  std::fprintf(out, "\n`smolbot <command> --help` describes a command's options.\n");
}

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    print_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  for (const auto& c : smolbot::commands()) {
    if (c.name == std::string(argv[1])) return c.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "smolbot: unknown command '%s'\n", argv[1]);
  print_usage(stderr);
  return 2;
}
