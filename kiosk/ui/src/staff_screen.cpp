// Staff boards: tabs, a table drawn with a list clipper (10,000 rows stay fast), row actions,
// and a detail panel explaining the selected row.
#include <algorithm>
#include <cmath>
#include <vector>

#include "keyboard.hpp"
#include "screens.hpp"

namespace anteroom::kiosk::ui {

namespace {

// What each column needs, header and cells: its widest word (wrapping) and its widest text (on
// one line).
const TableVm::Measured& columnNeeds(const TableVm& table) {
  auto& m = table.measured;
  if (m.fontSize == ImGui::GetFontSize() && m.widestWord.size() == table.columns.size()) return m;
  m.fontSize = ImGui::GetFontSize();
  m.widestWord.assign(table.columns.size(), 0.0f);
  m.widestText.assign(table.columns.size(), 0.0f);
  const auto measure = [&](std::size_t c, const std::string& text) {
    m.widestWord[c] = std::max(m.widestWord[c], widestWord(text));
    m.widestText[c] = std::max(m.widestText[c], ImGui::CalcTextSize(text.c_str()).x);
  };
  for (std::size_t c = 0; c < table.columns.size(); ++c) measure(c, table.columns[c]);
  for (const auto& row : table.rows)
    for (std::size_t c = 0; c < row.cells.size() && c < table.columns.size(); ++c) measure(c, row.cells[c]);
  return m;
}

// The buttons every row offers, each distinct label once (rows repeat a few).
struct RowActions {
  std::size_t most = 1;                   // the most buttons one row has
  std::vector<const ButtonVm*> distinct;  // one per label
};
RowActions rowActions(const TableVm& table) {
  RowActions out;
  for (const auto& row : table.rows) {
    out.most = std::max(out.most, row.actions.size());
    for (const auto& a : row.actions) {
      if (std::none_of(out.distinct.begin(), out.distinct.end(), [&](const ButtonVm* m) { return m->label == a.label; }))
        out.distinct.push_back(&a);
    }
  }
  return out;
}

// A cell's text on one line, or wrapping at its column's edge. The widget map gets the cell
// with the room its text needs (the widest word when it wraps), so a test sees any text wider
// than its column: a word is never cut or shrunk.
enum class Wrap { No, AtSpaces };
void drawCell(DrawContext& ctx, const std::string& id, const std::string& text, ImVec2 at, float w, float h, Wrap wrap) {
  ImGui::SetCursorScreenPos(at);
  if (wrap == Wrap::AtSpaces) ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + w);
  ImGui::TextUnformatted(text.c_str());
  if (wrap == Wrap::AtSpaces) ImGui::PopTextWrapPos();
  const float needs = wrap == Wrap::AtSpaces ? widestWord(text) : ImGui::CalcTextSize(text.c_str()).x;
  recordRect(ctx, id, at, ImVec2(at.x + w, at.y + h), needs);
}

// One line a row: every cell on one line, in columns that share the width by what their widest
// text needs, the row's buttons on the right, each label on one line. Rows are all as tall, so
// the clipper keeps 10,000 rows fast.
void drawTableLines(DrawContext& ctx, const TableVm& table, const RowActions& actions, float actionW, float width,
                    float height) {
  const std::vector<float>& needs = columnNeeds(table).widestText;
  const float padding = 2.0f * ImGui::GetStyle().CellPadding.x;
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const int columns = static_cast<int>(table.columns.size()) + 1;
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_ScrollY;
  if (!ImGui::BeginTable(table.id.c_str(), columns, flags, ImVec2(width, height))) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  for (std::size_t c = 0; c < table.columns.size(); ++c)
    ImGui::TableSetupColumn(table.columns[c].c_str(), ImGuiTableColumnFlags_WidthStretch, needs[c] + padding);
  ImGui::TableSetupColumn("##actions", ImGuiTableColumnFlags_WidthFixed, static_cast<float>(actions.most) * (actionW + gap));
  // Headers do not wrap: the widget map gets each with its whole label's width.
  ImGui::TableNextRow(ImGuiTableRowFlags_Headers);
  for (int c = 0; c < columns; ++c) {
    ImGui::TableSetColumnIndex(c);
    const char* name = ImGui::TableGetColumnName(c);
    ImGui::TableHeader(name);
    if (c + 1 < columns)
      record(ctx, table.id + ".header." + std::to_string(c), ImGui::CalcTextSize(name).x + padding / 2.0f);
  }
  const float rowH = targetHeight();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(table.rows.size()), rowH + ImGui::GetStyle().CellPadding.y * 2);
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const auto& row = table.rows[static_cast<std::size_t>(i)];
      ImGui::TableNextRow(ImGuiTableRowFlags_None, rowH);
      if (row.highlighted) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, ImGui::GetColorU32(ImGuiCol_Header));
      for (std::size_t c = 0; c < row.cells.size(); ++c) {
        ImGui::TableNextColumn();
        ImGui::AlignTextToFramePadding();
        drawCell(ctx, table.id + ".cell." + row.id + "." + std::to_string(c), row.cells[c], ImGui::GetCursorScreenPos(),
                 ImGui::GetContentRegionAvail().x, rowH, Wrap::No);
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

// Large text leaves no room for a row's words and its buttons side by side: each row takes two
// lines, its cells on the first (the whole width shared by what their words need; as many
// wrapped lines of text as the widest cell needs, up to three) and its buttons under them.
// Every row is as tall, so the clipper keeps 10,000 rows fast.
void drawTableStacked(DrawContext& ctx, const TableVm& table, const RowActions& actions, float width, float height) {
  const std::vector<float>& needs = columnNeeds(table).widestWord;
  const ImGuiStyle& style = ImGui::GetStyle();
  const float padding = 2.0f * style.CellPadding.x;
  float total = 0.0f;
  for (float n : needs) total += n + padding;
  const float inner = width - style.ScrollbarSize;
  std::vector<float> colX, colW;
  float x = 0.0f;
  for (float n : needs) {
    const float w = (n + padding) * inner / total;
    colX.push_back(x + style.CellPadding.x);
    colW.push_back(w - padding);
    x += w;
  }
  const ImVec2 headerAt = ImGui::GetCursorScreenPos();
  const float lineH = ImGui::GetTextLineHeight();
  for (std::size_t c = 0; c < table.columns.size(); ++c)
    drawCell(ctx, table.id + ".header." + std::to_string(c), table.columns[c], ImVec2(headerAt.x + colX[c], headerAt.y),
             colW[c], 2.0f * lineH, Wrap::AtSpaces);
  ImGui::SetCursorScreenPos(ImVec2(headerAt.x, headerAt.y + 2.0f * lineH + style.ItemSpacing.y));
  float actionW = 0.0f;
  for (const ButtonVm* a : actions.distinct) actionW = std::max(actionW, buttonNaturalWidth(*a));
  actionW = std::min(actionW, (inner - style.ItemSpacing.x * static_cast<float>(actions.most - 1)) / static_cast<float>(actions.most));
  float buttonH = targetHeight();
  for (const ButtonVm* a : actions.distinct) buttonH = std::max(buttonH, buttonHeight(*a, actionW));
  // As many text lines as the widest cell of a column needs at its width (at most three).
  const auto& widestText = columnNeeds(table).widestText;
  float lines = 1.0f;
  for (std::size_t c = 0; c < colW.size(); ++c) lines = std::max(lines, std::ceil(widestText[c] / std::max(colW[c], 1.0f)));
  const float cellsH = std::min(lines, 3.0f) * lineH + 2.0f * style.CellPadding.y;
  const float rowH = cellsH + buttonH + 2.0f * style.ItemSpacing.y;

  ImGui::BeginChild(("##rows." + table.id).c_str(), ImVec2(width, std::max(height - 2.0f * lineH, rowH)), false);
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(table.rows.size()), rowH);
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const auto& row = table.rows[static_cast<std::size_t>(i)];
      const ImVec2 at = ImGui::GetCursorScreenPos();
      ImDrawList* draw = ImGui::GetWindowDrawList();
      draw->AddRectFilled(at, ImVec2(at.x + inner, at.y + rowH - style.ItemSpacing.y),
                          ImGui::GetColorU32(row.highlighted ? ImGuiCol_Header : (i % 2 ? ImGuiCol_TableRowBgAlt : ImGuiCol_TableRowBg)));
      for (std::size_t c = 0; c < row.cells.size() && c < colX.size(); ++c)
        drawCell(ctx, table.id + ".cell." + row.id + "." + std::to_string(c), row.cells[c],
                 ImVec2(at.x + colX[c], at.y + style.CellPadding.y), colW[c], cellsH - style.CellPadding.y, Wrap::AtSpaces);
      ImGui::SetCursorScreenPos(ImVec2(at.x + style.CellPadding.x, at.y + cellsH));
      for (std::size_t a = 0; a < row.actions.size(); ++a) {
        if (a > 0) ImGui::SameLine();
        touchButton(ctx, row.actions[a], ImVec2(actionW, buttonH));
      }
      ImGui::SetCursorScreenPos(at);
      ImGui::Dummy(ImVec2(inner, rowH));
    }
  }
  touchScroll();
  ImGui::EndChild();
}

void drawTable(DrawContext& ctx, const TableVm& table, float width, float height) {
  if (table.rows.empty()) {
    paragraph(table.empty);
    return;
  }
  // The actions column is as wide as the widest row's buttons, each as wide as its longest
  // label on one line; when the cells would not fit beside it on one line, rows take two.
  const RowActions actions = rowActions(table);
  float actionW = 150.0f;
  for (const ButtonVm* a : actions.distinct) actionW = std::max(actionW, buttonNaturalWidth(*a));
  // Each column's share also loses its padding, its inner borders and ImGui's rounding of
  // stretched widths: a few pixels more than the padding.
  const float padding = 2.0f * ImGui::GetStyle().CellPadding.x + 8.0f;
  float dataW = 0.0f;
  for (float n : columnNeeds(table).widestText) dataW += n + padding;
  const float actionsW = static_cast<float>(actions.most) * (actionW + ImGui::GetStyle().ItemSpacing.x);
  if (dataW + actionsW + ImGui::GetStyle().ScrollbarSize > width) return drawTableStacked(ctx, table, actions, width, height);
  drawTableLines(ctx, table, actions, actionW, width, height);
}

// Each tab's width: all as wide (up to 230 px) where their labels allow; a tab whose longest
// word needs more gets that, the others share what is left. A word is never drawn smaller than
// its siblings' (a single word like "Sincronización" cannot wrap); when even that does not fit
// on one row, tabs flow onto more rows.
std::vector<float> tabWidths(const std::vector<ButtonVm>& tabs, float width) {
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  std::vector<float> needs;
  for (const auto& t : tabs) needs.push_back(std::min(width, buttonMinWidth(t)));
  // The common width: what the row leaves once the tabs wider than it have theirs.
  float common = 230.0f;
  for (std::size_t pass = 0; pass <= tabs.size(); ++pass) {
    float fixed = 0.0f;
    std::size_t sharing = 0;
    for (float n : needs) {
      if (n > common) fixed += n;
      else ++sharing;
    }
    if (sharing == 0) break;
    const float room = width - gap * static_cast<float>(tabs.size() - 1) - fixed;
    const float next = std::min(230.0f, room / static_cast<float>(sharing));
    if (next == common) break;
    common = next;
  }
  std::vector<float> widths;
  for (float n : needs) widths.push_back(std::max(n, common));
  return widths;
}

// Tabs of `widths` flowed onto rows: where each row starts, all as tall as the tallest label.
struct TabRows {
  std::vector<float> widths;
  std::vector<bool> startsRow;
  float tabH = 0;
  int rows = 1;
  float height() const { return static_cast<float>(rows) * tabH + static_cast<float>(rows - 1) * ImGui::GetStyle().ItemSpacing.y; }
};

TabRows flowTabs(const std::vector<ButtonVm>& tabs, std::vector<float> widths, float width) {
  TabRows r;
  r.widths = std::move(widths);
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  float x = 0;
  for (std::size_t i = 0; i < tabs.size(); ++i) {
    r.tabH = std::max(r.tabH, buttonHeight(tabs[i], r.widths[i]));
    const bool sameRow = i > 0 && x + gap + r.widths[i] <= width + 0.5f;
    r.startsRow.push_back(!sameRow);
    if (sameRow) {
      x += gap + r.widths[i];
    } else {
      if (i > 0) ++r.rows;
      x = r.widths[i];
    }
  }
  return r;
}

// Tabs at one width (tabWidths) while they fit one row; when they do not, whichever is shorter
// of that flowed and each tab as wide as its label on one line, flowed: at 200% in Spanish the
// shared widths wrapped "Lista de espera" to three lines and two such rows pushed the board's
// title below the fold (464 px of tabs); one line each, the same labels take two rows of 90.
void drawTabs(DrawContext& ctx, const std::vector<ButtonVm>& tabs, float width) {
  if (tabs.empty()) return;
  TabRows layout = flowTabs(tabs, tabWidths(tabs, width), width);
  if (layout.rows > 1) {
    std::vector<float> natural;
    for (const auto& t : tabs) natural.push_back(std::min(width, buttonNaturalWidth(t)));
    TabRows oneLine = flowTabs(tabs, std::move(natural), width);
    if (oneLine.height() < layout.height()) layout = std::move(oneLine);
  }
  for (std::size_t i = 0; i < tabs.size(); ++i) {
    if (!layout.startsRow[i]) ImGui::SameLine();
    touchButton(ctx, tabs[i], ImVec2(layout.widths[i], layout.tabH));
  }
}

}  // namespace

void drawStaffScreen(DrawContext& ctx, const ScreenVm& screen, float width) {
  ImGui::PushFont(ctx.fonts.body);
  drawTabs(ctx, screen.tabs, width);
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
