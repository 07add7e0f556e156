// Patient screens: a title, a few calm sentences, one question (with its keyboard) or a set
// of large tiles, and the bottom bar. Errors sit right under the question.
#include <algorithm>

#include "keyboard.hpp"
#include "screens.hpp"

namespace anteroom::kiosk::ui {

namespace {

// The question in large type, then the answer box (the hint shows inside it while empty).
void drawField(DrawContext& ctx, const FieldVm& field, float width) {
  ImGui::PushFont(ctx.fonts.title);
  paragraph(field.label);
  ImGui::PopFont();
  record(ctx, "screen.title");
  const float boxH = std::max(kMinTarget, ImGui::GetFontSize() * 1.9f);
  const ImVec2 min = ImGui::GetCursorScreenPos();
  const ImVec2 max(min.x + std::min(width, 900.0f), min.y + boxH);
  ImDrawList* draw = ImGui::GetWindowDrawList();
  draw->AddRectFilled(min, max, ImGui::GetColorU32(ImGuiCol_FrameBg), 12.0f);
  draw->AddRect(min, max, ImGui::GetColorU32(ImGuiCol_Border), 12.0f, 0, 3.0f);
  const bool empty = field.value.empty();
  ImGui::PushFont(empty ? ctx.fonts.body : ctx.fonts.title);
  const std::string shown = empty ? field.hint : field.value + (field.keyboard == KeyboardKind::Digits ? "" : "|");
  const ImVec2 textSize = ImGui::CalcTextSize(shown.c_str());
  draw->AddText(ImVec2(min.x + 20.0f, min.y + (boxH - textSize.y) / 2.0f),
                ImGui::GetColorU32(empty ? ImGuiCol_TextDisabled : ImGuiCol_Text), shown.c_str());
  ImGui::PopFont();
  ImGui::Dummy(ImVec2(max.x - min.x, boxH));
  record(ctx, field.id);
}

void drawChoices(DrawContext& ctx, const ScreenVm& screen, float width, float available) {
  const std::size_t n = screen.choices.size();
  // Many tiles: four short columns on a wide screen so they fit without scrolling.
  const int columns = n > 8 ? (width > 1100.0f ? 4 : 3) : n > 3 ? 2 : 1;
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float tileW = columns == 1 ? std::min(width, 760.0f) : (width - gap * static_cast<float>(columns - 1)) / static_cast<float>(columns);
  const float rows = static_cast<float>((n + static_cast<std::size_t>(columns) - 1) / static_cast<std::size_t>(columns));
  // Tall tiles when there is room, never below the minimum target; scroll only past that.
  const float fitH = (available - ImGui::GetStyle().ItemSpacing.y * rows) / rows;
  const float tileH = std::clamp(fitH, kMinTarget, n > 8 ? kMinTarget : 110.0f);
  const float needed = rows * (tileH + ImGui::GetStyle().ItemSpacing.y);
  const bool scroll = needed > available;
  if (scroll) ImGui::BeginChild("##choices", ImVec2(width, available), false);
  for (std::size_t i = 0; i < n; ++i) {
    if (i % static_cast<std::size_t>(columns) != 0) ImGui::SameLine();
    touchButton(ctx, screen.choices[i], ImVec2(tileW, tileH));
  }
  if (scroll) ImGui::EndChild();
}

}  // namespace

void drawPatientScreen(DrawContext& ctx, const ScreenVm& screen, float width, float height) {
  const float actionsH = kMinTarget + 24.0f;
  ImGui::PushFont(ctx.fonts.body);
  if (screen.field) {
    // One question per screen: the question is the heading.
    for (const auto& line : screen.body) paragraph(line);
    drawField(ctx, *screen.field, width);
    errorText(ctx, screen.error);
    ImGui::Spacing();
    const float keyboardH = height - ImGui::GetCursorPosY() - actionsH;
    if (screen.field->keyboard != KeyboardKind::None)
      drawKeyboard(ctx, screen.field->keyboard, std::min(width, 1100.0f), keyboardH);
  } else {
    ImGui::PushFont(ctx.fonts.title);
    paragraph(screen.title);
    ImGui::PopFont();
    record(ctx, "screen.title");
    for (const auto& line : screen.body) paragraph(line);
    if (!screen.notice.empty()) paragraph(screen.notice);
    ImGui::Spacing();
    errorText(ctx, screen.error);
    const float available = height - ImGui::GetCursorPosY() - actionsH - ImGui::GetStyle().ItemSpacing.y;
    if (!screen.choices.empty()) drawChoices(ctx, screen, width, std::max(available, 120.0f));
  }

  // The bottom bar: back on the left, the main action on the right, links between.
  if (!screen.actions.empty()) {
    ImGui::SetCursorPosY(std::max(ImGui::GetCursorPosY(), height - actionsH));
    const float gap = ImGui::GetStyle().ItemSpacing.x;
    const std::size_t n = screen.actions.size();
    const float actionW = std::min(360.0f, (width - gap * static_cast<float>(n - 1)) / static_cast<float>(n));
    // Back on the left and the main action on the right keep their size; links between share
    // the rest, so a long label in Spanish still fits.
    const float middleW = n > 2 ? (width - 2 * actionW - gap * static_cast<float>(n - 1)) / static_cast<float>(n - 2)
                                : actionW;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& a = screen.actions[i];
      if (i > 0) ImGui::SameLine();
      const bool last = i + 1 == n;
      if (last && a.style == ButtonStyle::Primary && n > 1) ImGui::SetCursorPosX(width - actionW);
      touchButton(ctx, a, ImVec2(i == 0 || last ? actionW : middleW, kMinTarget));
    }
  }
  ImGui::PopFont();
}

}  // namespace anteroom::kiosk::ui
