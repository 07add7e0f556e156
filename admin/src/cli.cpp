// Parses "--name value" options, flags and positional words; unknown options are usage errors.
#include "cli.hpp"

#include <cstdio>

namespace anteroom::admin {

int usageError(const std::string& message, const char* help) {
  std::fprintf(stderr, "anteroom-admin: %s\n", message.c_str());
  std::fputs(help, stderr);
  return kExitUsage;
}

int commandFailed(const Error& error) {
  std::fprintf(stderr, "anteroom-admin: %s\n", error.message.c_str());
  return kExitFailed;
}

bool needOptions(const ParsedArgs& args, std::initializer_list<const char*> names, std::string& missing) {
  for (const char* n : names) {
    if (!args.get(n) || args.get(n)->empty()) {
      missing = std::string(n) + " is required";
      return false;
    }
  }
  return true;
}

ParsedArgs parseArgs(const std::vector<std::string>& args, const std::set<std::string>& valueOptions,
                     const std::set<std::string>& flagOptions) {
  ParsedArgs parsed;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      parsed.flags.insert("--help");
    } else if (valueOptions.contains(a)) {
      if (i + 1 >= args.size()) {
        parsed.error = a + " needs a value";
        return parsed;
      }
      parsed.options[a] = args[++i];
    } else if (flagOptions.contains(a)) {
      parsed.flags.insert(a);
    } else if (a.starts_with("--")) {
      parsed.error = "unknown option " + a;
      return parsed;
    } else {
      parsed.positional.push_back(a);
    }
  }
  return parsed;
}

}  // namespace anteroom::admin
