// [SECTION] The frame: a top bar (practice, language, text size, contrast), the screen, and a
// footer with the crisis line that no screen can hide.
#include <algorithm>
#include <cstdio>

#include "keyboard.hpp"
#include "screens.hpp"
#include "widgets.hpp"

namespace anteroom::kiosk::ui {

namespace {

void drawTopBar(DrawContext& ctx, const FrameVm& vm, float width) {
  ImGui::PushFont(ctx.fonts.small);
  ImGui::AlignTextToFramePadding();
  // Screens that bring their own controls (welcome, out of service) leave the chrome out.
  const bool withButtons = vm.screen.id != "welcome" && !vm.staffMode && !vm.homeButton.empty();
  const std::string heading = vm.staffMode ? vm.practiceName + "  \u2014  " + vm.staffName : vm.practiceName;
  if (!withButtons) {
    ImGui::TextUnformatted(heading.c_str());
  } else {
    // Patients can change language, size and contrast on every screen, and start over.
    // Each button is as wide as its label in the current language.
    const ButtonVm buttons[] = {{"chrome.home", vm.homeButton, ButtonStyle::Link, true, false},
                                {"chrome.language", vm.languageButton, ButtonStyle::Secondary, true, false},
                                {"chrome.text_size", vm.textSizeButton, ButtonStyle::Secondary, true, false},
                                {"chrome.contrast", vm.contrastButton, ButtonStyle::Secondary, true, vm.highContrast}};
    const float pad = ImGui::GetStyle().FramePadding.x * 2 + 24.0f;
    const float gap = ImGui::GetStyle().ItemSpacing.x;
    float total = 0;
    float widths[4];
    for (int i = 0; i < 4; ++i) {
      widths[i] = std::max(150.0f, ImGui::CalcTextSize(buttons[i].label.c_str()).x + pad);
      total += widths[i] + (i > 0 ? gap : 0.0f);
    }
    // The practice's name gives way to the buttons when a language's labels need the room.
    if (ImGui::CalcTextSize(heading.c_str()).x + 2 * gap < width - total) ImGui::TextUnformatted(heading.c_str());
    else ImGui::Dummy(ImVec2(1, ImGui::GetFrameHeight()));
    ImGui::SameLine(std::max(0.0f, width - total + ImGui::GetStyle().WindowPadding.x));
    for (int i = 0; i < 4; ++i) {
      if (i > 0) ImGui::SameLine();
      touchButton(ctx, buttons[i], ImVec2(widths[i], 0));
    }
  }
  ImGui::PopFont();
}

void drawFooter(DrawContext& ctx, const FrameVm& vm, const ImVec2& displaySize, float height) {
  // The foreground list spans the whole display, past the window's padding.
  ImDrawList* draw = ImGui::GetForegroundDrawList();
  const ImVec2 min(0, displaySize.y - height);
  const ImU32 bg = vm.highContrast ? IM_COL32(255, 221, 0, 255) : IM_COL32(38, 70, 83, 255);
  const ImU32 fg = vm.highContrast ? IM_COL32(0, 0, 0, 255) : IM_COL32(255, 255, 255, 255);
  draw->AddRectFilled(min, displaySize, bg);
  ImGui::PushFont(ctx.fonts.body);
  const ImVec2 textSize = ImGui::CalcTextSize(vm.crisisLine.c_str());
  draw->AddText(ImVec2((displaySize.x - textSize.x) / 2.0f, min.y + (height - textSize.y) / 2.0f), fg,
                vm.crisisLine.c_str());
  ImGui::PopFont();
  ctx.widgets["chrome.crisis_line"] = Rect{min.x, min.y, displaySize.x, height};
}

}  // namespace

void drawFrame(const FrameVm& vm, const Fonts& fonts, Intents& intents, WidgetMap& widgets) {
  widgets.clear();
  DrawContext ctx{fonts, intents, widgets, vm.highContrast};
  const ImVec2 display = ImGui::GetIO().DisplaySize;
  const float footerH = 72.0f;
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(display);
  ImGui::Begin("##kiosk", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                   ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoScrollWithMouse);
  const float width = display.x - 2 * ImGui::GetStyle().WindowPadding.x;
  drawTopBar(ctx, vm, width);
  ImGui::Separator();

  const float contentH = display.y - ImGui::GetCursorPosY() - footerH - ImGui::GetStyle().ItemSpacing.y;
  ImGui::BeginChild("##content", ImVec2(width, contentH), false,
                    vm.staffMode ? ImGuiWindowFlags_None : ImGuiWindowFlags_NoScrollbar);
  if (vm.staffMode || !vm.screen.tabs.empty()) {
    drawStaffScreen(ctx, vm.screen, width);
  } else {
    drawPatientScreen(ctx, vm.screen, width, contentH);
  }
  ImGui::EndChild();
  drawFooter(ctx, vm, display, footerH);
  ImGui::End();
}

}  // namespace anteroom::kiosk::ui
