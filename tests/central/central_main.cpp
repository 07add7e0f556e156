// The central suites' doctest main: runs the tests, then searches the PostgreSQL server log for
// every patient value the fixtures wrote (central_support.hpp). One found fails the suite: a
// value that reached the log went as an SQL literal, or a setting let a bound one through.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "central_support.hpp"

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  int rc = context.run();
  if (context.shouldExit()) return rc;
  if (const auto* pg = anteroom::testing::startedCluster()) {
    const auto found = anteroom::testing::patientValuesIn(pg->readLog());
    for (const auto& value : found) {
      std::fprintf(stderr, "central suite: the PostgreSQL log contains the fixture's patient value \"%s\"\n",
                   value.c_str());
    }
    if (!found.empty() && rc == 0) rc = 1;
    std::printf("central suite: server log searched for patient values: %zu found\n", found.size());
  }
  anteroom::testing::stopCluster();
  return rc;
}
