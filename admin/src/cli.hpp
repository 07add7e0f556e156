// Minimal command-line parsing for anteroom-admin: "--name value" options and flags.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "anteroom/model/error.hpp"

namespace anteroom::admin {

// Exit codes: 0 success, 1 the operation failed, 2 bad usage.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

struct ParsedArgs {
  std::map<std::string, std::string> options;
  std::set<std::string> flags;
  std::vector<std::string> positional;
  std::string error;  // non-empty on bad usage

  [[nodiscard]] std::optional<std::string> get(const std::string& name) const {
    auto it = options.find(name);
    if (it == options.end()) return std::nullopt;
    return it->second;
  }
  [[nodiscard]] bool has(const std::string& flag) const { return flags.contains(flag); }
};

// valueOptions take a value ("--db FILE"); flagOptions do not ("--json"). "--help" is always a flag.
// One "anteroom-admin: ..." line on stderr, then the command's help; returns kExitUsage.
int usageError(const std::string& message, const char* help);
// One "anteroom-admin: ..." line on stderr; returns kExitFailed.
int commandFailed(const Error& error);

// False, with "--name is required" in `missing`, when one of `names` is absent or empty.
bool needOptions(const ParsedArgs& args, std::initializer_list<const char*> names, std::string& missing);

ParsedArgs parseArgs(const std::vector<std::string>& args, const std::set<std::string>& valueOptions,
                     const std::set<std::string>& flagOptions);

}  // namespace anteroom::admin
