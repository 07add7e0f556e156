// On-screen keyboards: letters (with Spanish letters), email, and a numeric pad.
// Keys queue text intents; nothing here knows which field they go to.
#include "keyboard.hpp"

#include "anteroom/model/validation.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

namespace anteroom::kiosk::ui {

namespace {

void key(DrawContext& ctx, const std::string& id, const std::string& label, ImVec2 size, Intent intent,
         ButtonStyle style = ButtonStyle::Secondary) {
  ButtonVm b{id, label, style, true, false};
  // touchButton queues a press; keys queue their text instead.
  const std::size_t before = ctx.intents.size();
  if (touchButton(ctx, b, size)) {
    ctx.intents.resize(before);
    ctx.intents.push_back(std::move(intent));
  }
}

std::string keyId(const std::string& text) {
  if (text == " ") return "kb.space";
  if (text == "@") return "kb.at";
  if (text == ".") return "kb.dot";
  if (text == "-") return "kb.dash";
  if (text == "'") return "kb.apostrophe";
  if (text == "_") return "kb.underscore";
  if (text == "+") return "kb.plus";
  if (text == "ñ") return "kb.n_tilde";
  return "kb." + text;
}

// How a key shows: codes and member ids are upper case (the field is too); names lower case.
struct KeyStyle {
  bool upper = false;
  std::string_view only;  // when set, keys outside it are left out (check-in codes)
};

std::string upperAscii(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

void row(DrawContext& ctx, const std::vector<std::string>& keys, float keyW, float keyH, float indent,
         KeyStyle style = {}) {
  if (indent > 0) ImGui::SetCursorPosX(ImGui::GetCursorPosX() + indent);
  bool first = true;
  for (const auto& k : keys) {
    const std::string label = style.upper ? upperAscii(k) : k;
    if (!style.only.empty() && style.only.find(label) == std::string_view::npos) continue;
    if (!first) ImGui::SameLine();
    first = false;
    key(ctx, keyId(k), label, ImVec2(keyW, keyH), Intent::typed(k));
  }
}

}  // namespace

void drawKeyboard(DrawContext& ctx, KeyboardKind kind, float width, float height) {
  ImGui::PushFont(ctx.fonts.key);
  ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(12.0f, 10.0f));
  // A key holds one character: a narrow side padding leaves room for the widest (W) at 200%,
  // drawn as large as its neighbours.
  ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, ImVec2(8.0f, ImGui::GetStyle().FramePadding.y));
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  if (kind == KeyboardKind::Digits || kind == KeyboardKind::Pin) {
    const float keyW = std::min(150.0f, (width - 2 * gap) / 3.0f);
    // Keys shrink to fit the room, but never below what their text size needs (the area scrolls).
    const float keyH = std::max(targetHeight(), std::min(keyW * 0.62f, height / 4.0f - gap));
    const float indent = (width - (3 * keyW + 2 * gap)) / 2.0f;
    for (const auto& r : {std::vector<std::string>{"1", "2", "3"}, {"4", "5", "6"}, {"7", "8", "9"}}) {
      row(ctx, r, keyW, keyH, indent);
    }
    ImGui::SetCursorPosX(ImGui::GetCursorPosX() + indent);
    key(ctx, "kb.clear", "C", ImVec2(keyW, keyH), Intent::clear());
    ImGui::SameLine();
    key(ctx, "kb.0", "0", ImVec2(keyW, keyH), Intent::typed("0"));
    ImGui::SameLine();
    key(ctx, "kb.backspace", "\u232B", ImVec2(keyW, keyH), Intent::backspace());
    ImGui::PopStyleVar(2);
    ImGui::PopFont();
    return;
  }
  const float keyW = std::min(96.0f, (width - 10 * gap) / 11.0f);
  const float rows = kind == KeyboardKind::Letters || kind == KeyboardKind::Email ? 4.0f : 3.0f;
  const float keyH = std::max(targetHeight(), std::min(keyW * 0.85f, height / (rows + (kind == KeyboardKind::Email || kind == KeyboardKind::Code ? 1.0f : 0.0f)) - gap));
  const bool withDigits = kind == KeyboardKind::Email || kind == KeyboardKind::Code || kind == KeyboardKind::MemberId;
  KeyStyle style;
  style.upper = kind == KeyboardKind::Code || kind == KeyboardKind::MemberId;
  if (kind == KeyboardKind::Code) style.only = kCheckInCodeAlphabet;
  if (withDigits) row(ctx, {"1", "2", "3", "4", "5", "6", "7", "8", "9", "0"}, keyW, keyH, 0, style);
  row(ctx, {"q", "w", "e", "r", "t", "y", "u", "i", "o", "p"}, keyW, keyH, 0, style);
  row(ctx, {"a", "s", "d", "f", "g", "h", "j", "k", "l", "ñ"}, keyW, keyH, keyW * 0.3f,
      kind == KeyboardKind::Letters || kind == KeyboardKind::Email ? style : KeyStyle{style.upper, style.only.empty() ? "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" : style.only});
  row(ctx, {"z", "x", "c", "v", "b", "n", "m"}, keyW, keyH, keyW * 0.8f, style);
  ImGui::SameLine();
  key(ctx, "kb.backspace", "\u232B", ImVec2(keyW * 2 + gap, keyH), Intent::backspace());
  if (kind == KeyboardKind::MemberId) {
    // Member ids are often written with dashes.
    ImGui::SameLine();
    key(ctx, "kb.dash", "-", ImVec2(keyW, keyH), Intent::typed("-"));
  }
  if (kind == KeyboardKind::Email) {
    row(ctx, {"@", ".", "-", "_", "+"}, keyW, keyH, keyW * 0.8f);
    ImGui::SameLine();
    key(ctx, "kb.dotcom", ".com", ImVec2(keyW * 2 + gap, keyH), Intent::typed(".com"));
  } else if (kind == KeyboardKind::Letters) {
    // Accented letters most Spanish names need, then space, hyphen and apostrophe.
    row(ctx, {"á", "é", "í", "ó", "ú", "ü"}, keyW, keyH, keyW * 0.3f);
    ImGui::SameLine();
    key(ctx, "kb.space", " ", ImVec2(keyW * 3 + 2 * gap, keyH), Intent::typed(" "));
    ImGui::SameLine();
    key(ctx, "kb.dash", "-", ImVec2(keyW, keyH), Intent::typed("-"));
    ImGui::SameLine();
    key(ctx, "kb.apostrophe", "'", ImVec2(keyW, keyH), Intent::typed("'"));
  }
  ImGui::PopStyleVar(2);
  ImGui::PopFont();
}

}  // namespace anteroom::kiosk::ui
