// anteroom-admin waitlist commands (being built; see the open issue).
#include <cstdio>

#include "cli.hpp"
#include "commands.hpp"

namespace anteroom::admin {

int cmdWaitlist(const std::vector<std::string>&) {
  std::fputs("anteroom-admin: the waitlist commands are not available in this build\n", stderr);
  return kExitFailed;
}

}  // namespace anteroom::admin
