// Staff boards: tabs, a table drawn with a list clipper (10,000 rows stay fast), row actions,
// and a detail panel explaining the selected row.
#include <algorithm>
#include <vector>

#include "keyboard.hpp"
#include "screens.hpp"

namespace anteroom::kiosk::ui {

namespace {

void drawTable(DrawContext& ctx, const TableVm& table, float width, float height) {
  if (table.rows.empty()) {
    paragraph(table.empty);
    return;
  }
  const int columns = static_cast<int>(table.columns.size()) + 1;
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_ScrollY |
                                ImGuiTableFlags_SizingStretchProp;
  if (!ImGui::BeginTable(table.id.c_str(), columns, flags, ImVec2(width, height))) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  for (const auto& c : table.columns) ImGui::TableSetupColumn(c.c_str());
  // The actions column is as wide as the widest row's buttons, so the data keeps the room; a
  // button is as wide as its longest label in this language and size. Rows repeat a few labels,
  // so each distinct one is measured once.
  std::size_t maxActions = 1;
  float actionW = 150.0f;
  std::vector<const std::string*> measured;
  for (const auto& row : table.rows) {
    maxActions = std::max(maxActions, row.actions.size());
    for (const auto& a : row.actions) {
      if (std::any_of(measured.begin(), measured.end(), [&](const std::string* m) { return *m == a.label; })) continue;
      measured.push_back(&a.label);
      actionW = std::max(actionW, buttonNaturalWidth(a));
    }
  }
  ImGui::TableSetupColumn("##actions", ImGuiTableColumnFlags_WidthFixed,
                          static_cast<float>(maxActions) * (actionW + ImGui::GetStyle().ItemSpacing.x));
  ImGui::TableHeadersRow();
  const float rowH = targetHeight();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(table.rows.size()), rowH + ImGui::GetStyle().CellPadding.y * 2);
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const auto& row = table.rows[static_cast<std::size_t>(i)];
      ImGui::TableNextRow(ImGuiTableRowFlags_None, rowH);
      if (row.highlighted) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, ImGui::GetColorU32(ImGuiCol_Header));
      for (const auto& cell : row.cells) {
        ImGui::TableNextColumn();
        ImGui::AlignTextToFramePadding();
        ImGui::TextUnformatted(cell.c_str());
      }
      ImGui::TableNextColumn();
      for (std::size_t a = 0; a < row.actions.size(); ++a) {
        if (a > 0) ImGui::SameLine();
        touchButton(ctx, row.actions[a], ImVec2(actionW, rowH));
      }
    }
  }
  touchScroll();
  ImGui::EndTable();
}

}  // namespace

void drawStaffScreen(DrawContext& ctx, const ScreenVm& screen, float width) {
  ImGui::PushFont(ctx.fonts.body);
  if (!screen.tabs.empty()) {
    const float gap = ImGui::GetStyle().ItemSpacing.x;
    const float tabW = std::min(230.0f, (width - gap * static_cast<float>(screen.tabs.size() - 1)) /
                                            static_cast<float>(screen.tabs.size()));
    float tabH = 0;
    for (const auto& t : screen.tabs) tabH = std::max(tabH, buttonHeight(t, tabW));
    for (std::size_t i = 0; i < screen.tabs.size(); ++i) {
      if (i > 0) ImGui::SameLine();
      touchButton(ctx, screen.tabs[i], ImVec2(tabW, tabH));
    }
  }
  ImGui::PushFont(ctx.fonts.title);
  paragraph(screen.title);
  ImGui::PopFont();
  record(ctx, "screen.title");
  for (const auto& line : screen.body) paragraph(line);
  if (!screen.notice.empty()) paragraph(screen.notice);
  errorText(ctx, screen.error);

  if (screen.field) {
    // Staff PIN entry and name selection use the same field + keypad as patient screens.
    ImGui::PushFont(ctx.fonts.title);
    paragraph(screen.field->label + "  " + screen.field->value);
    ImGui::PopFont();
    record(ctx, screen.field->id);
    drawKeyboard(ctx, screen.field->keyboard, std::min(width, 600.0f), ImGui::GetContentRegionAvail().y);
  }
  // Choices (staff names, lists, settings) and actions flow in rows: each button as wide as its
  // label needs (at least a third of a row for names), a new row when the next does not fit.
  const auto flow = [&](const std::vector<ButtonVm>& buttons, float minW, float minH) {
    const float gap = ImGui::GetStyle().ItemSpacing.x;
    float x = 0;
    for (std::size_t i = 0; i < buttons.size(); ++i) {
      const float w = std::min(width, std::max(minW, buttonNaturalWidth(buttons[i])));
      if (i > 0 && x + gap + w <= width) {
        ImGui::SameLine();
        x += gap + w;
      } else {
        x = w;
      }
      touchButton(ctx, buttons[i], ImVec2(w, minH));
    }
  };
  if (screen.tabs.empty()) flow(screen.choices, (width - 32.0f) / 3.0f, 110.0f);
  else flow(screen.choices, 300.0f, kMinTarget);
  flow(screen.actions, 220.0f, kMinTarget);

  if (screen.table) {
    // Boards carry many columns: the smaller type keeps names and times whole.
    ImGui::PushFont(ctx.fonts.small);
    const float detailW = screen.detail.empty() ? 0.0f : std::min(460.0f, width * 0.32f);
    const float tableW = width - detailW - (detailW > 0 ? ImGui::GetStyle().ItemSpacing.x : 0.0f);
    // At least a few rows show even when large text pushes the board down; the screen scrolls.
    const float tableH = std::max(ImGui::GetContentRegionAvail().y, 5.0f * targetHeight());
    drawTable(ctx, *screen.table, tableW, tableH);
    if (!screen.detail.empty()) {
      ImGui::SameLine();
      ImGui::BeginChild("##detail", ImVec2(detailW, tableH), true);
      for (const auto& line : screen.detail) paragraph(line);
      ImGui::EndChild();
      record(ctx, "staff.detail");
    }
    ImGui::PopFont();
  }
  ImGui::PopFont();
}

}  // namespace anteroom::kiosk::ui
