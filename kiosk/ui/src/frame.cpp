// [SECTION] The frame: a top bar (practice, language, text size, contrast), the screen, and a
// footer with the crisis line that no screen can hide.
#include <algorithm>
#include <cfloat>
#include <cstdio>
#include <vector>

#include "keyboard.hpp"
#include "screens.hpp"
#include "widgets.hpp"

namespace anteroom::kiosk::ui {

namespace {

// The practice's name (and, in staff mode, who is signed in), wrapped: it never vanishes.
void drawHeading(DrawContext& ctx, const std::string& heading, float width) {
  if (heading.empty()) return;
  ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + width);
  ImGui::TextUnformatted(heading.c_str());
  ImGui::PopTextWrapPos();
  record(ctx, "chrome.practice");
}

void drawTopBar(DrawContext& ctx, const FrameVm& vm, float width) {
  ImGui::PushFont(ctx.fonts.small);
  // Screens that bring their own controls (welcome, out of service) leave the chrome out.
  const bool withButtons = vm.screen.id != "welcome" && !vm.staffMode && !vm.languageButton.empty();
  const std::string heading = vm.staffMode ? vm.practiceName + "  \u2014  " + vm.staffName : vm.practiceName;
  if (!withButtons) {
    drawHeading(ctx, heading, width);
    ImGui::PopFont();
    return;
  }
  // Patients can change language, size and contrast on every screen, and start over. Each
  // button is as wide as its label; when the four do not fit on a line they take their short
  // labels ("Text 200%", at the same text size: at 200% in Spanish the bar is one line, not two,
  // the room a question's last answer needed), and when those do not fit either they share the
  // line and their labels wrap. The practice's name sits beside them or, when there is no room,
  // above. A screen that cannot be left early (the lookup pause) has no Start over.
  const auto buttonsWith = [&](bool compact) {
    const auto pick = [&](const std::string& full, const std::string& brief) { return compact && !brief.empty() ? brief : full; };
    std::vector<ButtonVm> b;
    if (!vm.homeButton.empty())
      b.push_back({"chrome.home", pick(vm.homeButton, vm.homeButtonShort), ButtonStyle::Link, true, false});
    b.push_back({"chrome.language", vm.languageButton, ButtonStyle::Secondary, true, false});
    b.push_back({"chrome.text_size", pick(vm.textSizeButton, vm.textSizeButtonShort), ButtonStyle::Secondary, true, false});
    b.push_back({"chrome.contrast", pick(vm.contrastButton, vm.contrastButtonShort), ButtonStyle::Secondary, true, vm.highContrast});
    return b;
  };
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  // Each button as wide as its label (at least 150 px), and the row's width.
  const auto natural = [&](const std::vector<ButtonVm>& b, std::vector<float>& w) {
    w.assign(b.size(), 0.0f);
    float sum = gap * static_cast<float>(b.size() - 1);
    for (std::size_t i = 0; i < b.size(); ++i) sum += w[i] = std::max(150.0f, buttonNaturalWidth(b[i]));
    return sum;
  };
  std::vector<ButtonVm> buttons = buttonsWith(false);
  std::vector<float> widths;
  float total = natural(buttons, widths);
  if (total > width) {
    std::vector<ButtonVm> brief = buttonsWith(true);
    std::vector<float> briefWidths;
    if (const float briefTotal = natural(brief, briefWidths); briefTotal <= width) {
      buttons = std::move(brief);
      widths = std::move(briefWidths);
      total = briefTotal;
    }
  }
  const int n = static_cast<int>(buttons.size());
  if (total > width) {
    for (float& w : widths) w = (width - gap * static_cast<float>(n - 1)) / static_cast<float>(n);
    total = width;
  }
  float height = 0;
  for (std::size_t i = 0; i < buttons.size(); ++i) height = std::max(height, buttonHeight(buttons[i], widths[i]));
  const float headingW = ImGui::CalcTextSize(heading.c_str()).x;
  const bool beside = headingW + 2 * gap <= width - total;
  const float rowX = ImGui::GetCursorPosX();
  if (!beside) drawHeading(ctx, heading, width);
  const float rowY = ImGui::GetCursorPosY();
  if (beside && !heading.empty()) {
    ImGui::SetCursorPosY(rowY + (height - ImGui::GetTextLineHeight()) / 2.0f);
    ImGui::TextUnformatted(heading.c_str());
    record(ctx, "chrome.practice");
  }
  ImGui::SetCursorPos(ImVec2(rowX + width - total, rowY));
  for (std::size_t i = 0; i < buttons.size(); ++i) {
    if (i > 0) ImGui::SameLine();
    touchButton(ctx, buttons[i], ImVec2(widths[i], height));
  }
  ImGui::PopFont();
}

// The crisis line, wrapped and centred; the footer grows to hold it at any text size.
float footerHeight(const Fonts& fonts, const std::string& line, float width) {
  ImGui::PushFont(fonts.body);
  const WrappedText wrapped = wrapText(line, width);
  ImGui::PopFont();
  return std::max(72.0f, static_cast<float>(wrapped.lines.size()) * wrapped.lineHeight + 24.0f);
}

void drawFooter(DrawContext& ctx, const FrameVm& vm, const ImVec2& displaySize, float height, float width) {
  // The foreground list spans the whole display, past the window's padding.
  ImDrawList* draw = ImGui::GetForegroundDrawList();
  const ImVec2 min(0, displaySize.y - height);
  const ImU32 bg = vm.highContrast ? IM_COL32(255, 221, 0, 255) : IM_COL32(38, 70, 83, 255);
  const ImU32 fg = vm.highContrast ? IM_COL32(0, 0, 0, 255) : IM_COL32(255, 255, 255, 255);
  draw->AddRectFilled(min, displaySize, bg);
  ImGui::PushFont(ctx.fonts.body);
  const WrappedText wrapped = wrapText(vm.crisisLine, width);
  const float size = ImGui::GetFontSize() * wrapped.scale;
  float y = min.y + (height - static_cast<float>(wrapped.lines.size()) * wrapped.lineHeight) / 2.0f;
  for (const auto& [b, e] : wrapped.lines) {
    const float w = ImGui::GetFont()->CalcTextSizeA(size, FLT_MAX, 0.0f, b, e).x;
    draw->AddText(ImGui::GetFont(), size, ImVec2((displaySize.x - w) / 2.0f, y), fg, b, e);
    y += wrapped.lineHeight;
  }
  ImGui::PopFont();
  ctx.widgets["chrome.crisis_line"] = Rect{min.x, min.y, displaySize.x, height, wrapped.widest};
}

// "Are you still there?" over the whole screen: the answers underneath stay, and the big
// button (or a tap anywhere) keeps them.
void drawIdleWarning(DrawContext& ctx, const IdleWarningVm& warning, const ImVec2& display, float footerH) {
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(ImVec2(display.x, display.y - footerH));
  ImGui::PushStyleColor(ImGuiCol_WindowBg, ctx.highContrast ? ImVec4(0, 0, 0, 0.97f) : ImVec4(0.965f, 0.953f, 0.933f, 0.97f));
  ImGui::Begin("##idle_warning", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings);
  const float width = display.x - 2 * ImGui::GetStyle().WindowPadding.x;
  ImGui::SetCursorPosY(display.y * 0.15f);
  ImGui::PushFont(ctx.fonts.title);
  paragraph(warning.title);
  ImGui::PopFont();
  record(ctx, "idle.title");
  ImGui::PushFont(ctx.fonts.body);
  paragraph(warning.body);
  ImGui::Spacing();
  const float w = std::min(width, 560.0f);
  touchButton(ctx, warning.stillHere, ImVec2(w, buttonHeight(warning.stillHere, w)));
  ImGui::PopFont();
  ImGui::End();
  ImGui::PopStyleColor();
}

}  // namespace

void drawFrame(const FrameVm& vm, const Fonts& fonts, Intents& intents, WidgetMap& widgets) {
  widgets.clear();
  DrawContext ctx{fonts, intents, widgets, vm.highContrast};
  const ImVec2 display = ImGui::GetIO().DisplaySize;
  const float width = display.x - 2 * ImGui::GetStyle().WindowPadding.x;
  const float footerH = footerHeight(fonts, vm.crisisLine, width);
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(display);
  ImGui::Begin("##kiosk", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                   ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoScrollWithMouse);
  drawTopBar(ctx, vm, width);
  ImGui::Separator();

  const float contentH = display.y - ImGui::GetCursorPosY() - footerH - ImGui::GetStyle().ItemSpacing.y;
  if (vm.staffMode || !vm.screen.tabs.empty()) {
    beginScrollArea("##staff", vm.screen.id, ImVec2(width, contentH));
    drawStaffScreen(ctx, vm.screen, width - ImGui::GetStyle().ScrollbarSize);
    endScrollArea();
  } else {
    ImGui::BeginChild("##content", ImVec2(width, contentH), false, ImGuiWindowFlags_NoScrollbar);
    drawPatientScreen(ctx, vm.screen, width, contentH);
    ImGui::EndChild();
  }
  drawFooter(ctx, vm, display, footerH, width);
  ImGui::End();
  if (vm.idleWarning) drawIdleWarning(ctx, *vm.idleWarning, display, footerH);
}

}  // namespace anteroom::kiosk::ui
