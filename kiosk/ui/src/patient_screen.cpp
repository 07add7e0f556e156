// Patient screens: a title, a few calm sentences, one question (with its keyboard) or a set
// of large tiles, and the bottom bar. Errors sit right under the question. Everything above
// the bottom bar scrolls with a finger, so at any text size Back and Continue stay in view.
#include <algorithm>
#include <cfloat>

#include "keyboard.hpp"
#include "screens.hpp"

namespace anteroom::kiosk::ui {

namespace {

// `text` drawn in a box styled as the answer box, from `min` to `max`; a typed value wider than
// the box shows its end, as a text box scrolls while one types (a hint is sized to fit instead:
// trimEnd false). Returns the drawn text's width.
float drawAnswerBox(ImFont* font, float size, ImVec2 min, ImVec2 max, const std::string& text, ImU32 color, bool trimEnd = true) {
  const float inner = max.x - min.x - 40.0f;
  const char* begin = text.c_str();
  const char* end = begin + text.size();
  while (trimEnd && begin < end && font->CalcTextSizeA(size, FLT_MAX, 0.0f, begin, end).x > inner) {
    ++begin;
    while (begin < end && (static_cast<unsigned char>(*begin) & 0xC0) == 0x80) ++begin;
  }
  const ImVec2 textSize = font->CalcTextSizeA(size, FLT_MAX, 0.0f, begin, end);
  ImDrawList* draw = ImGui::GetWindowDrawList();
  draw->AddRectFilled(min, max, ImGui::GetColorU32(ImGuiCol_FrameBg), 12.0f);
  draw->AddRect(min, max, ImGui::GetColorU32(ImGuiCol_Border), 12.0f, 0, 3.0f);
  draw->AddText(font, size, ImVec2(min.x + 20.0f, min.y + (max.y - min.y - textSize.y) / 2.0f), color, begin, end);
  return textSize.x;
}

// The question in large type, then the answer box (the hint shows inside it while empty).
// A value wider than the box shows its end, as a text box scrolls while one types.
void drawField(DrawContext& ctx, const FieldVm& field, float width) {
  ImGui::PushFont(ctx.fonts.title);
  paragraph(field.label);
  ImGui::PopFont();
  record(ctx, "screen.title");
  const bool empty = field.value.empty();
  ImGui::PushFont(empty ? ctx.fonts.body : ctx.fonts.title);
  const float boxW = std::min(width, 900.0f);
  const float inner = boxW - 40.0f;
  const std::string shown = empty ? field.hint : field.value + (field.keyboard == KeyboardKind::Digits ? "" : "|");
  float size = ImGui::GetFontSize();
  if (empty) {
    // A hint too long for the box is drawn smaller, never cut.
    const float w = ImGui::CalcTextSize(shown.c_str()).x;
    if (w > inner) size *= inner / w;
  }
  const float boxH = std::max(kMinTarget, ImGui::GetFontSize() * 1.9f);
  const ImVec2 min = ImGui::GetCursorScreenPos();
  const float textW = drawAnswerBox(ImGui::GetFont(), size, min, ImVec2(min.x + boxW, min.y + boxH), shown,
                                    ImGui::GetColorU32(empty ? ImGuiCol_TextDisabled : ImGuiCol_Text), !empty);
  ImGui::PopFont();
  ImGui::Dummy(ImVec2(boxW, boxH));
  record(ctx, field.id, textW + 40.0f);
}

// Tiles in a grid: one column for a few, more for many. Each row is as tall as its tallest
// label needs (labels wrap), and never below the minimum target.
struct ChoiceGrid {
  std::size_t columns = 1;
  float tileW = 0;
  std::vector<float> rowHeights;
  float height = 0;  // the whole grid, with the spacing under each row
};

ChoiceGrid layoutChoicesIn(const ScreenVm& screen, float width, float available, std::size_t columns) {
  ChoiceGrid grid;
  const std::size_t n = screen.choices.size();
  grid.columns = columns;
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  if (grid.columns == 1) {
    // A single column is 760 px, wider (to the whole width) before a label would wrap.
    float oneLine = 760.0f;
    for (const auto& c : screen.choices) oneLine = std::max(oneLine, buttonNaturalWidth(c));
    grid.tileW = std::min(width, oneLine);
  } else {
    grid.tileW = (width - gap * static_cast<float>(grid.columns - 1)) / static_cast<float>(grid.columns);
  }
  const std::size_t rowCount = (n + grid.columns - 1) / grid.columns;
  const float rows = static_cast<float>(rowCount);
  // Tall tiles when there is room; the area scrolls past that.
  const float fitH = (available - ImGui::GetStyle().ItemSpacing.y * rows) / rows;
  const float baseH = std::clamp(fitH, kMinTarget, n > 8 ? kMinTarget : 110.0f);
  for (std::size_t r = 0; r < rowCount; ++r) {
    float rowH = baseH;
    for (std::size_t c = 0; c < grid.columns && r * grid.columns + c < n; ++c)
      rowH = std::max(rowH, buttonHeight(screen.choices[r * grid.columns + c], grid.tileW));
    grid.rowHeights.push_back(rowH);
    grid.height += rowH + ImGui::GetStyle().ItemSpacing.y;
  }
  return grid;
}

ChoiceGrid layoutChoices(const ScreenVm& screen, float width, float available) {
  const std::size_t n = screen.choices.size();
  const float scale = ImGui::GetFontSize() / 30.0f;
  const std::size_t wanted = n > 8 ? (width > 1100.0f ? 4 : 3) : n > 3 ? 2 : 1;
  // Larger text gets fewer, wider columns.
  const std::size_t columns = std::max<std::size_t>(1, scale >= 1.5f && wanted > 2 ? wanted - 1 : wanted);
  ChoiceGrid grid = layoutChoicesIn(screen, width, available, columns);
  // Two to four answers stacked taller than the room under their question (large text) go side
  // by side, in as many columns as makes them shortest: the question and its answers share the
  // screen without a drag.
  // (The welcome's sentence gives way instead: its tiles stay one column.)
  if (columns == 1 && n >= 2 && n <= 4 && grid.height > available && !screen.bodyGivesWay) {
    for (std::size_t k = 2; k <= n; ++k) {
      ChoiceGrid wider = layoutChoicesIn(screen, width, available, k);
      if (wider.height < grid.height) grid = std::move(wider);
    }
  }
  return grid;
}

void drawChoices(DrawContext& ctx, const ScreenVm& screen, const ChoiceGrid& grid) {
  const std::size_t n = screen.choices.size();
  for (std::size_t r = 0; r < grid.rowHeights.size(); ++r) {
    for (std::size_t c = 0; c < grid.columns && r * grid.columns + c < n; ++c) {
      if (c > 0) ImGui::SameLine();
      touchButton(ctx, screen.choices[r * grid.columns + c], ImVec2(grid.tileW, grid.rowHeights[r]));
    }
  }
}

// How tall paragraph() draws `text` in the current font at `width`, with the spacing after.
float paragraphHeight(const std::string& text, float width) {
  return ImGui::CalcTextSize(text.c_str(), nullptr, false, width).y + ImGui::GetStyle().ItemSpacing.y;
}

// The bottom bar: back on the left, the main action on the right, links between. Back and
// the main action keep their size; links share the rest. Labels wrap rather than clip.
struct ActionBar {
  std::vector<float> widths;
  float height = 0;
};

ActionBar layoutActions(const std::vector<ButtonVm>& actions, float width) {
  ActionBar bar;
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const std::size_t n = actions.size();
  const float actionW = std::min(360.0f, (width - gap * static_cast<float>(n - 1)) / static_cast<float>(n));
  const float middleW = n > 2 ? (width - 2 * actionW - gap * static_cast<float>(n - 1)) / static_cast<float>(n - 2)
                              : actionW;
  for (std::size_t i = 0; i < n; ++i) {
    const float w = i == 0 || i + 1 == n ? actionW : middleW;
    bar.widths.push_back(w);
    bar.height = std::max(bar.height, buttonHeight(actions[i], w));
  }
  return bar;
}

// The typed answer in the bottom bar's gap between `left` and `right` (x in the window), its
// end shown when it is longer, as the answer box shows it; nothing when the gap is too narrow.
void drawEcho(DrawContext& ctx, const std::string& value, float left, float right, float top, float h) {
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const ImVec2 origin = ImGui::GetWindowPos();
  const ImVec2 min(origin.x + left + gap, origin.y + top), max(origin.x + right - gap, origin.y + top + h);
  if (max.x - min.x < 160.0f) return;
  const float textW = drawAnswerBox(ctx.fonts.body, ctx.fonts.body->FontSize, min, max, value, ImGui::GetColorU32(ImGuiCol_Text));
  recordRect(ctx, "field.echo", min, max, textW + 40.0f, ctx.fonts.body->FontSize);
}

}  // namespace

void drawPatientScreen(DrawContext& ctx, const ScreenVm& screen, float width, float height) {
  ImGui::PushFont(ctx.fonts.body);
  ImFont* barFont = ctx.fonts.body;
  ActionBar bar = screen.actions.empty() ? ActionBar{} : layoutActions(screen.actions, width);
  if (screen.actionsAreSettings && bar.height > 3.0f * ImGui::GetTextLineHeight()) {
    barFont = ctx.fonts.small;
    ImGui::PushFont(barFont);
    bar = layoutActions(screen.actions, width);
    ImGui::PopFont();
  }
  const float barH = screen.actions.empty() ? 0.0f : bar.height + ImGui::GetStyle().ItemSpacing.y;
  const float areaH = height - barH;
  const float innerW = width - ImGui::GetStyle().ScrollbarSize - 8.0f;

  beginScrollArea("##patient", screen.id, ImVec2(width, areaH));
  if (screen.field) {
    // One question per screen: the question is the heading.
    for (const auto& line : screen.body) paragraph(line);
    drawField(ctx, *screen.field, innerW);
    errorText(ctx, screen.error);
    // At large sizes the lines above can push the answer below the fold: what was just typed,
    // and what is wrong with it, scroll into view (its length, not its text, marks a change).
    if (!screen.field->value.empty() || !screen.error.empty())
      keepLastItemInView(screen.id + "\n" + std::to_string(screen.field->value.size()) + "\n" + screen.error);
    ImGui::Spacing();
    const float keyboardH = areaH - ImGui::GetCursorPosY();
    if (screen.field->keyboard != KeyboardKind::None)
      drawKeyboard(ctx, screen.field->keyboard, std::min(innerW, 1100.0f), keyboardH);
  } else {
    ImGui::PushFont(ctx.fonts.title);
    paragraph(screen.title);
    ImGui::PopFont();
    record(ctx, "screen.title");
    bool withBody = true;
    if (screen.bodyGivesWay && !screen.choices.empty()) {
      // The smallest the rest can be: title drawn, notice, spacing, error, tiles at their least.
      float bodyH = 0;
      for (const auto& line : screen.body) bodyH += paragraphHeight(line, innerW);
      float restH = ImGui::GetCursorPosY() + ImGui::GetStyle().ItemSpacing.y;
      if (!screen.notice.empty()) restH += paragraphHeight(screen.notice, innerW);
      if (!screen.error.empty()) restH += paragraphHeight(screen.error, innerW);
      restH += layoutChoices(screen, innerW, 0.0f).height;
      withBody = restH + bodyH <= areaH;
    }
    if (withBody)
      for (const auto& line : screen.body) paragraph(line);
    if (!screen.notice.empty()) paragraph(screen.notice);
    ImGui::Spacing();
    errorText(ctx, screen.error);
    const float available = areaH - ImGui::GetCursorPosY() - ImGui::GetStyle().ItemSpacing.y;
    if (!screen.choices.empty()) drawChoices(ctx, screen, layoutChoices(screen, innerW, std::max(available, 120.0f)));
  }
  endScrollArea();
  // At large sizes the answer box and the keyboard do not fit together: once a patient drags
  // up to the keys the box is out of view, so what they have typed shows in the bottom bar,
  // between Back and Continue, while it is.
  const bool echo = screen.field && !screen.field->value.empty() && screen.actions.size() == 2 &&
                    (!ctx.widgets.contains(screen.field->id) || ctx.widgets.at(screen.field->id).cut);

  if (!screen.actions.empty()) {
    if (echo) drawEcho(ctx, screen.field->value, bar.widths.front(), width - bar.widths.back(), height - bar.height, bar.height);
    ImGui::PushFont(barFont);
    ImGui::SetCursorPosY(height - bar.height);
    const std::size_t n = screen.actions.size();
    for (std::size_t i = 0; i < n; ++i) {
      const auto& a = screen.actions[i];
      if (i > 0) ImGui::SameLine();
      const bool last = i + 1 == n;
      // The main action is always on the right, even alone ("Done" never moves).
      if (last && a.style == ButtonStyle::Primary) ImGui::SetCursorPosX(width - bar.widths[i]);
      touchButton(ctx, a, ImVec2(bar.widths[i], bar.height));
    }
    ImGui::PopFont();
  }
  ImGui::PopFont();
}

}  // namespace anteroom::kiosk::ui
