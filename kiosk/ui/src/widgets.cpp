// Touch buttons in five styles; each records its rectangle under its widget id.
#include "widgets.hpp"

namespace anteroom::kiosk::ui {

namespace {

ImVec4 rgb(int r, int g, int b) {
  return ImVec4(static_cast<float>(r) / 255.0f, static_cast<float>(g) / 255.0f, static_cast<float>(b) / 255.0f, 1.0f);
}

struct Palette {
  ImVec4 bg, hover, active, text;
};

Palette paletteFor(ButtonStyle style, bool selected, bool highContrast) {
  if (highContrast) {
    if (style == ButtonStyle::Primary || selected) return {rgb(255, 221, 0), rgb(255, 235, 90), rgb(255, 245, 160), rgb(0, 0, 0)};
    if (style == ButtonStyle::Danger) return {rgb(0, 0, 0), rgb(60, 0, 0), rgb(120, 0, 0), rgb(255, 140, 140)};
    return {rgb(0, 0, 0), rgb(40, 40, 40), rgb(80, 80, 80), rgb(255, 255, 255)};
  }
  switch (style) {
    case ButtonStyle::Primary: return {rgb(47, 111, 115), rgb(38, 96, 100), rgb(30, 80, 84), rgb(255, 255, 255)};
    case ButtonStyle::Danger: return {rgb(255, 255, 255), rgb(250, 232, 230), rgb(240, 210, 206), rgb(160, 40, 30)};
    case ButtonStyle::Link: return {rgb(246, 243, 238), rgb(232, 240, 239), rgb(208, 228, 226), rgb(38, 96, 100)};
    case ButtonStyle::Tile:
    case ButtonStyle::Secondary:
      if (selected) return {rgb(208, 228, 226), rgb(196, 220, 218), rgb(180, 210, 207), rgb(20, 60, 62)};
      return {rgb(255, 255, 255), rgb(232, 240, 239), rgb(208, 228, 226), rgb(31, 42, 46)};
  }
  return {rgb(255, 255, 255), rgb(232, 240, 239), rgb(208, 228, 226), rgb(31, 42, 46)};
}

}  // namespace

void record(DrawContext& ctx, const std::string& id) {
  const ImVec2 min = ImGui::GetItemRectMin();
  const ImVec2 max = ImGui::GetItemRectMax();
  ctx.widgets[id] = Rect{min.x, min.y, max.x - min.x, max.y - min.y};
}

bool touchButton(DrawContext& ctx, const ButtonVm& button, ImVec2 size) {
  if (size.x > 0 && size.x < kMinTarget) size.x = kMinTarget;
  if (size.y < kMinTarget) size.y = kMinTarget;
  const Palette p = paletteFor(button.style, button.selected, ctx.highContrast);
  ImGui::PushStyleColor(ImGuiCol_Button, p.bg);
  ImGui::PushStyleColor(ImGuiCol_ButtonHovered, p.hover);
  ImGui::PushStyleColor(ImGuiCol_ButtonActive, p.active);
  ImGui::PushStyleColor(ImGuiCol_Text, p.text);
  if (button.selected) ImGui::PushStyleVar(ImGuiStyleVar_FrameBorderSize, 4.0f);
  if (!button.enabled) ImGui::PushStyleVar(ImGuiStyleVar_Alpha, 0.45f);
  const std::string label = (button.selected && button.style == ButtonStyle::Tile ? "\u2713 " : "") + button.label +
                            "##" + button.id;
  bool pressed = ImGui::Button(label.c_str(), size);
  if (!button.enabled) {
    ImGui::PopStyleVar();
    pressed = false;
  }
  if (button.selected) ImGui::PopStyleVar();
  ImGui::PopStyleColor(4);
  record(ctx, button.id);
  if (pressed) ctx.intents.push_back(Intent::press(button.id));
  return pressed;
}

void errorText(DrawContext& ctx, const std::string& error) {
  if (error.empty()) return;
  const ImVec4 colour = ctx.highContrast ? ImVec4(1.0f, 0.55f, 0.55f, 1.0f) : ImVec4(0.62f, 0.16f, 0.12f, 1.0f);
  ImGui::PushStyleColor(ImGuiCol_Text, colour);
  paragraph(error);
  ImGui::PopStyleColor();
  record(ctx, "screen.error");
}

void paragraph(const std::string& text) {
  ImGui::PushTextWrapPos(0.0f);
  ImGui::TextUnformatted(text.c_str());
  ImGui::PopTextWrapPos();
}

}  // namespace anteroom::kiosk::ui
