// Touch buttons in five styles; each records its rectangle under its widget id.
#include "widgets.hpp"

#include <imgui_internal.h>

#include <algorithm>
#include <cfloat>

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

float targetHeight() { return std::max(kMinTarget, ImGui::GetFontSize() * 1.75f); }

// [SECTION] Labels that wrap

WrappedText wrapText(const std::string& text, float width) {
  WrappedText out;
  ImFont* font = ImGui::GetFont();
  const float size = ImGui::GetFontSize();
  const char* begin = text.c_str();
  const char* end = begin + text.size();
  // A word wider than the room shrinks the whole label, so no word is ever split or cut.
  float widestWord = 0.0f;
  for (const char* w = begin; w < end;) {
    while (w < end && (*w == ' ' || *w == '\n')) ++w;
    const char* e = w;
    while (e < end && *e != ' ' && *e != '\n') ++e;
    if (e > w) widestWord = std::max(widestWord, font->CalcTextSizeA(size, FLT_MAX, 0.0f, w, e).x);
    w = e;
  }
  if (width > 0 && widestWord > width) out.scale = width / widestWord;
  const float drawn = size * out.scale;
  out.lineHeight = drawn * 1.1f;
  for (const char* line = begin; line < end;) {
    const char* next = font->CalcWordWrapPositionA(drawn / font->FontSize, line, end, std::max(width, 1.0f));
    if (next == line) ++next;
    const char* lineEnd = next;
    while (lineEnd > line && (lineEnd[-1] == ' ' || lineEnd[-1] == '\n')) --lineEnd;
    out.lines.emplace_back(line, lineEnd);
    out.widest = std::max(out.widest, font->CalcTextSizeA(drawn, FLT_MAX, 0.0f, line, lineEnd).x);
    line = next;
    while (line < end && (*line == ' ' || *line == '\n')) ++line;
  }
  if (out.lines.empty()) out.lines.emplace_back(begin, begin);
  return out;
}

namespace {

std::string shownLabel(const ButtonVm& button) {
  return (button.selected && button.style == ButtonStyle::Tile ? "\u2713 " : "") + button.label;
}

float labelPadding() { return ImGui::GetStyle().FramePadding.x * 2.0f; }

// Whether the finger now down has scrolled a region (then its release taps nothing). One
// finger at a time, so one flag for the UI thread.
bool& dragScrolled() {
  static bool scrolled = false;
  return scrolled;
}

}  // namespace

float buttonNaturalWidth(const ButtonVm& button) {
  const std::string label = shownLabel(button);
  return ImGui::CalcTextSize(label.c_str()).x + labelPadding() + 2.0f;
}

float buttonMinWidth(const ButtonVm& button) {
  return std::max(kMinTarget, widestWord(shownLabel(button)) + labelPadding() + 2.0f);
}

float buttonHeight(const ButtonVm& button, float width) {
  const std::string label = shownLabel(button);
  const WrappedText wrapped = wrapText(label, width - labelPadding());
  const float textH = static_cast<float>(wrapped.lines.size()) * wrapped.lineHeight;
  return std::max(targetHeight(), textH + 2.0f * std::max(ImGui::GetStyle().FramePadding.y, 10.0f));
}

// [SECTION] Recording and buttons

void record(DrawContext& ctx, const std::string& id, float textW, float textPx) {
  recordRect(ctx, id, ImGui::GetItemRectMin(), ImGui::GetItemRectMax(), textW, textPx);
}

float widestWord(const std::string& text) {
  float widest = 0.0f;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) widest = std::max(widest, ImGui::CalcTextSize(text.data() + start, text.data() + end).x);
    start = end + 1;
  }
  return widest;
}

void recordRect(DrawContext& ctx, const std::string& id, ImVec2 min, ImVec2 max, float textW, float textPx) {
  // Only what the scrolled region shows can be tapped.
  const ImVec2 clipMin = ImGui::GetWindowDrawList()->GetClipRectMin();
  const ImVec2 clipMax = ImGui::GetWindowDrawList()->GetClipRectMax();
  const bool cut = min.y < clipMin.y - 0.5f || max.y > clipMax.y + 0.5f;
  min = ImVec2(std::max(min.x, clipMin.x), std::max(min.y, clipMin.y));
  max = ImVec2(std::min(max.x, clipMax.x), std::min(max.y, clipMax.y));
  if (max.x - min.x < 1.0f || max.y - min.y < 1.0f) {
    ctx.widgets.erase(id);
    return;
  }
  ctx.widgets[id] = Rect{min.x, min.y, max.x - min.x, max.y - min.y, textW, textPx, cut};
}

bool touchButton(DrawContext& ctx, const ButtonVm& button, ImVec2 size) {
  const std::string label = shownLabel(button);
  if (size.x <= 0) size.x = buttonNaturalWidth(button);
  size.x = std::max(size.x, kMinTarget);
  const WrappedText wrapped = wrapText(label, size.x - labelPadding());
  size.y = std::max(size.y, buttonHeight(button, size.x));
  const Palette p = paletteFor(button.style, button.selected, ctx.highContrast);
  ImGui::PushStyleColor(ImGuiCol_Button, p.bg);
  ImGui::PushStyleColor(ImGuiCol_ButtonHovered, p.hover);
  ImGui::PushStyleColor(ImGuiCol_ButtonActive, p.active);
  ImGui::PushStyleColor(ImGuiCol_Text, p.text);
  if (button.selected) ImGui::PushStyleVar(ImGuiStyleVar_FrameBorderSize, 4.0f);
  if (!button.enabled) ImGui::PushStyleVar(ImGuiStyleVar_Alpha, 0.45f);
  bool pressed = ImGui::Button(("##" + button.id).c_str(), size);
  // The label, centred line by line inside the button.
  const ImVec2 min = ImGui::GetItemRectMin();
  const float textH = static_cast<float>(wrapped.lines.size()) * wrapped.lineHeight;
  float y = min.y + (size.y - textH) / 2.0f + (wrapped.lineHeight - ImGui::GetFontSize() * wrapped.scale) / 2.0f;
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const ImU32 colour = ImGui::GetColorU32(ImGuiCol_Text);
  for (const auto& [b, e] : wrapped.lines) {
    const float w = ImGui::GetFont()->CalcTextSizeA(ImGui::GetFontSize() * wrapped.scale, FLT_MAX, 0.0f, b, e).x;
    draw->AddText(ImGui::GetFont(), ImGui::GetFontSize() * wrapped.scale, ImVec2(min.x + (size.x - w) / 2.0f, y), colour, b, e);
    y += wrapped.lineHeight;
  }
  if (!button.enabled) {
    ImGui::PopStyleVar();
    pressed = false;
  }
  if (button.selected) ImGui::PopStyleVar();
  ImGui::PopStyleColor(4);
  // A finger that dragged to scroll did not mean to tap what it started on.
  if (pressed && dragScrolled()) pressed = false;
  record(ctx, button.id, wrapped.widest + labelPadding(), ImGui::GetFontSize() * wrapped.scale);
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

// [SECTION] Scrolling by touch

void touchScroll() {
  const ImGuiIO& io = ImGui::GetIO();
  bool& scrolled = dragScrolled();
  if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) scrolled = false;
  if (io.MouseDelta.y == 0.0f || ImGui::GetScrollMaxY() <= 0.0f) return;
  if (!ImGui::IsWindowHovered(ImGuiHoveredFlags_AllowWhenBlockedByActiveItem)) return;
  if (!ImGui::IsMouseDragging(ImGuiMouseButton_Left, kDragThreshold)) return;
  scrolled = true;
  ImGui::SetScrollY(std::clamp(ImGui::GetScrollY() - io.MouseDelta.y, 0.0f, ImGui::GetScrollMaxY()));
}

void beginScrollArea(const char* name, const std::string& screenId, ImVec2 size) {
  // A new screen starts at its top: the last screen's offset never carries over.
  ImGuiStorage* storage = ImGui::GetStateStorage();
  const ImGuiID key = ImGui::GetID(name);
  const int shown = static_cast<int>(ImHashStr(screenId.c_str()));
  if (storage->GetInt(key, 0) != shown) {
    storage->SetInt(key, shown);
    ImGui::SetNextWindowScroll(ImVec2(0.0f, 0.0f));
  }
  ImGui::BeginChild(name, size, false, ImGuiWindowFlags_None);
  touchScroll();
}

namespace {

// The soft band at the bottom of a scroll area with more below.
float fadeBand(float areaH) { return std::min(48.0f, areaH / 4.0f); }

}  // namespace

void keepLastItemInView(const std::string& shown) {
  ImGuiStorage* storage = ImGui::GetStateStorage();
  const ImGuiID key = ImGui::GetID("##kept_in_view");
  const int hash = static_cast<int>(ImHashStr(shown.c_str()));
  if (storage->GetInt(key, 0) == hash) return;
  storage->SetInt(key, hash);
  const float windowH = ImGui::GetWindowHeight();
  const float bottom = ImGui::GetItemRectMax().y - ImGui::GetWindowPos().y + ImGui::GetScrollY();
  const float visible = ImGui::GetScrollY() + windowH - fadeBand(windowH) - ImGui::GetStyle().ItemSpacing.y;
  if (bottom > visible) ImGui::SetScrollY(ImGui::GetScrollY() + bottom - visible);
}

void endScrollArea() {
  // More below: a down arrow on a soft band at the bottom edge, so a patient who does not know
  // the screen scrolls sees that it does.
  if (ImGui::GetScrollMaxY() - ImGui::GetScrollY() > 1.0f) {
    ImDrawList* draw = ImGui::GetWindowDrawList();
    const ImVec2 pos = ImGui::GetWindowPos();
    const ImVec2 size = ImGui::GetWindowSize();
    const float band = fadeBand(size.y);
    const ImU32 clear = ImGui::GetColorU32(ImGuiCol_WindowBg, 0.0f);
    const ImU32 solid = ImGui::GetColorU32(ImGuiCol_WindowBg, 1.0f);
    draw->AddRectFilledMultiColor(ImVec2(pos.x, pos.y + size.y - band), ImVec2(pos.x + size.x, pos.y + size.y), clear,
                                  clear, solid, solid);
    const char* arrow = "\u2193";
    const ImVec2 t = ImGui::CalcTextSize(arrow);
    draw->AddText(ImVec2(pos.x + (size.x - t.x) / 2.0f, pos.y + size.y - t.y - 2.0f), ImGui::GetColorU32(ImGuiCol_Text), arrow);
  }
  ImGui::EndChild();
}

}  // namespace anteroom::kiosk::ui
