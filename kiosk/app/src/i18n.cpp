// Loads flat translation tables from JSON and fills "{name}" placeholders.
#include "anteroom/kiosk/i18n.hpp"

#include <fstream>
#include <iterator>

#include "anteroom/model/json.hpp"

namespace anteroom::kiosk {

Result<Translator> Translator::load(const std::filesystem::path& folder) {
  Translator t;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto json = Json::parse(text);
    if (!json || !json->isObject()) {
      return fail(ErrorDomain::Io, "i18n.invalid", "translation file " + entry.path().string() + " is not a JSON object");
    }
    auto& table = t.m_tables[entry.path().stem().string()];
    for (const auto& [key, value] : json->asObject()) {
      if (value.isString()) table[key] = value.asString();
    }
  }
  if (ec) return fail(ErrorDomain::Io, "i18n.missing", "cannot read translations in " + folder.string());
  if (!t.m_tables.contains("en"))
    return fail(ErrorDomain::Io, "i18n.missing", "no English translations (en.json) in " + folder.string());
  return t;
}

Translator Translator::fromMaps(std::map<std::string, std::map<std::string, std::string>> languages) {
  Translator t;
  for (auto& [lang, table] : languages) t.m_tables[lang] = std::move(table);
  return t;
}

void Translator::setLanguage(std::string_view language) {
  if (m_tables.contains(language)) m_language = std::string(language);
}

std::vector<std::string> Translator::languages() const {
  std::vector<std::string> out;
  for (const auto& [lang, table] : m_tables) out.push_back(lang);
  return out;
}

bool Translator::has(std::string_view language, std::string_view key) const {
  auto it = m_tables.find(language);
  return it != m_tables.end() && it->second.contains(std::string(key));
}

const std::map<std::string, std::string>& Translator::table(std::string_view language) const {
  static const std::map<std::string, std::string> empty;
  auto it = m_tables.find(language);
  return it == m_tables.end() ? empty : it->second;
}

std::string Translator::tr(std::string_view key) const {
  for (const std::string_view lang : {std::string_view(m_language), std::string_view("en")}) {
    auto it = m_tables.find(lang);
    if (it == m_tables.end()) continue;
    auto found = it->second.find(std::string(key));
    if (found != it->second.end()) return found->second;
  }
  return std::string(key);
}

std::string Translator::tr(std::string_view key,
                           std::initializer_list<std::pair<std::string_view, std::string>> args) const {
  std::string text = tr(key);
  for (const auto& [name, value] : args) {
    const std::string marker = "{" + std::string(name) + "}";
    std::size_t pos = 0;
    while ((pos = text.find(marker, pos)) != std::string::npos) {
      text.replace(pos, marker.size(), value);
      pos += value.size();
    }
  }
  return text;
}

}  // namespace anteroom::kiosk
