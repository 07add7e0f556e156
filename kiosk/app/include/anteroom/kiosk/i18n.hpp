// Translations: flat JSON files of dotted keys (assets/i18n/en.json, es.json).
// A missing key falls back to English, then to the key itself, so a gap is visible, not blank.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "anteroom/model/error.hpp"

namespace anteroom::kiosk {

class Translator {
 public:
  // Loads every <lang>.json in the folder; English must be there.
  static Result<Translator> load(const std::filesystem::path& folder);
  static Translator fromMaps(std::map<std::string, std::map<std::string, std::string>> languages);

  void setLanguage(std::string_view language);
  [[nodiscard]] const std::string& language() const { return m_language; }
  [[nodiscard]] std::vector<std::string> languages() const;

  // "{name}" placeholders are replaced from args (pairs of name, value).
  [[nodiscard]] std::string tr(std::string_view key) const;
  [[nodiscard]] std::string tr(std::string_view key,
                               std::initializer_list<std::pair<std::string_view, std::string>> args) const;
  [[nodiscard]] bool has(std::string_view language, std::string_view key) const;
  [[nodiscard]] const std::map<std::string, std::string>& table(std::string_view language) const;

 private:
  std::map<std::string, std::map<std::string, std::string>, std::less<>> m_tables;
  std::string m_language = "en";
};

}  // namespace anteroom::kiosk
