// Command groups of anteroom-admin that live in their own files.
#pragma once

#include <string>
#include <vector>

namespace anteroom::admin {

// anteroom-admin waitlist rank|match ... (admin/src/cmd_waitlist.cpp)
int cmdWaitlist(const std::vector<std::string>& args);
// anteroom-admin central migrate|status ... (admin/src/cmd_central.cpp)
int cmdCentral(const std::vector<std::string>& args);
// anteroom-admin ca init, device enroll|revoke ... (admin/src/cmd_provision.cpp)
int cmdCa(const std::vector<std::string>& args);
int cmdDevice(const std::vector<std::string>& args);
// anteroom-admin review list|resolve ... and waitlist rescore ... (admin/src/cmd_hub_core.cpp)
int cmdReview(const std::vector<std::string>& args);
int cmdWaitlistRescore(const std::vector<std::string>& args);  // the arguments after "rescore"
// anteroom-admin demo seed-central ... (the arguments after "seed-central")
int cmdDemoSeedCentral(const std::vector<std::string>& args);

}  // namespace anteroom::admin
