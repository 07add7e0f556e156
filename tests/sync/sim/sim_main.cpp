// anteroom-sync-sim: runs seeds of the sync simulation (DESIGN.md 5.6) and says which failed
// and how to replay each. Usage: anteroom-sync-sim [--seeds N] [--from S] [--steps M] [--verbose]
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "world.hpp"

namespace {

int usage(const char* why) {
  std::fprintf(stderr,
               "anteroom-sync-sim: %s\nusage: anteroom-sync-sim [--seeds N] [--from S] [--steps M] [--verbose]\n"
               "  runs seeds S..S+N-1 (default 1..20), M random steps each (default 40), then heals and checks\n",
               why);
  return 2;
}

bool number(const char* text, unsigned long long& out) {
  char* end = nullptr;
  out = std::strtoull(text, &end, 10);
  return end != text && *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  unsigned long long seeds = 20, from = 1, steps = 40;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](unsigned long long& out) {
      if (i + 1 >= argc || !number(argv[i + 1], out)) return false;
      ++i;
      return true;
    };
    if (a == "--seeds") {
      if (!value(seeds) || seeds == 0 || seeds > 100000) return usage("--seeds takes a number from 1 to 100000");
    } else if (a == "--from") {
      if (!value(from)) return usage("--from takes a seed number");
    } else if (a == "--steps") {
      if (!value(steps) || steps > 100000) return usage("--steps takes a number up to 100000");
    } else if (a == "--verbose") {
      verbose = true;
    } else if (a == "--help" || a == "-h") {
      usage("runs the sync simulation");
      return 0;
    } else {
      return usage(("unknown argument " + std::string(a)).c_str());
    }
  }
  auto central = anteroom::sim::Central::start();
  if (!central) {
    std::fprintf(stderr, "anteroom-sync-sim: %s\n", central.error().message.c_str());
    return 1;
  }
  int failed = 0;
  for (unsigned long long s = from; s < from + seeds; ++s) {
    if (verbose) std::fprintf(stderr, "seed %llu\n", s);
    const auto failures = anteroom::sim::runSeed(**central, s, static_cast<int>(steps), verbose);
    if (failures.empty()) continue;
    ++failed;
    std::printf("seed %llu FAILED (%zu problems):\n", s, failures.size());
    for (std::size_t k = 0; k < failures.size() && k < 20; ++k) std::printf("  %s\n", failures[k].c_str());
    std::printf("  replay: anteroom-sync-sim --seeds 1 --from %llu --steps %llu --verbose\n", s, steps);
  }
  if (failed > 0 && std::getenv("ANTEROOM_SIM_PGLOG")) {
    // The server's own words for the failing seeds (synthetic data only).
    std::istringstream log((*central)->log());
    for (std::string line; std::getline(log, line);)
      if (line.find("ERROR") != std::string::npos) std::printf("  postgres: %s\n", line.c_str());
  }
  std::printf("%llu passed, %d failed\n", seeds - static_cast<unsigned long long>(failed), failed);
  return failed == 0 ? 0 : 1;
}
