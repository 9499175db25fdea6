// Runs the fuzz target's invariants over files, with any compiler: the
// corpus (each case's input.bin) and tests/fuzz/regressions (any file). Part
// of `make check`, so the invariants hold in every build, not only when
// clang and libFuzzer are around. Usage: fuzz_replay DIR_OR_FILE...
#include <dirent.h>
#include <sys/stat.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "invariants.h"

namespace {

size_t replayed = 0;
const char *current = "";  // the input being checked, named if it aborts

void name_the_input(int) {
  std::fprintf(stderr, "fuzz_replay: invariant broken by %s\n", current);
}

bool replay_file(const std::string &path) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    std::fprintf(stderr, "fuzz_replay: cannot open %s\n", path.c_str());
    return false;
  }
  std::vector<uint8_t> bytes;
  uint8_t chunk[65536];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0)
    bytes.insert(bytes.end(), chunk, chunk + n);
  std::fclose(f);
  current = path.c_str();
  pp_fuzz::check_invariants(bytes.data(), bytes.size(), pp_fuzz::prefix_walk::every_input);
  ++replayed;
  return true;
}

bool replay(const std::string &path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "fuzz_replay: no such file: %s\n", path.c_str());
    return false;
  }
  if (!S_ISDIR(st.st_mode)) return replay_file(path);
  DIR *d = opendir(path.c_str());
  if (d == nullptr) return false;
  std::vector<std::string> names;
  while (const dirent *e = readdir(d)) {
    const std::string name = e->d_name;
    if (name[0] != '.' && name != "expected") names.push_back(name);
  }
  closedir(d);
  bool ok = true;
  for (const std::string &name : names) ok = replay(path + "/" + name) && ok;
  return ok;
}

}  // namespace

int main(int argc, char **argv) {
  std::signal(SIGABRT, name_the_input);
  bool ok = argc > 1;
  for (int i = 1; i < argc; ++i) ok = replay(argv[i]) && ok;
  std::printf("fuzz_replay: %zu inputs checked\n", replayed);
  return ok && replayed > 0 ? 0 : 1;
}
