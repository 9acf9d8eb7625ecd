// gguf-inspect FILE [--json]: prints what smol_gguf reads from a GGUF file. A file the reader
// refuses gives exit status 1 and one line on stderr saying what is wrong and where.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "summary.h"

namespace {

int usage() {
  std::fprintf(stderr, "usage: gguf-inspect FILE [--json]\n");
  return 2;
}

int run(int argc, char** argv) {
  std::string path;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) {
      std::printf("usage: gguf-inspect FILE [--json]\n");
      return 0;
    } else if (argv[i][0] == '-' || !path.empty()) {
      return usage();
    } else {
      path = argv[i];
    }
  }
  if (path.empty()) return usage();

  smol::Result<smol::gguf::File> file = smol::gguf::File::open(path);
  if (!file.ok()) {
    std::fprintf(stderr, "gguf-inspect: %s\n", file.error().c_str());
    return 1;
  }
  return json ? smol::inspect::print_json(*file) : smol::inspect::print_text(*file, path);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // e.g. bad_alloc: still one line, still exit 1
    std::fprintf(stderr, "gguf-inspect: %s\n", e.what());
    return 1;
  }
}
