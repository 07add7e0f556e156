// Fonts (DejaVu Sans, Latin ranges for English and Spanish) and the two colour themes.
#include <imgui.h>

#include <algorithm>

#include "anteroom/kiosk/ui.hpp"

namespace anteroom::kiosk::ui {

namespace {

// Basic Latin, Latin-1 (á é í ó ú ñ ü ¿ ¡), Latin Extended-A/B (names), general punctuation
// (’ “ ” – — … •), arrows, the backspace key and the check mark. Every glyph costs atlas memory
// at four sizes, so the list stays to what the screens and names need.
const ImWchar kGlyphRanges[] = {0x0020, 0x00FF, 0x0100, 0x024F, 0x2010, 0x2027, 0x2190, 0x2193,
                                0x232B, 0x232B, 0x2713, 0x2713, 0};

ImVec4 rgb(int r, int g, int b, float a = 1.0f) {
  return ImVec4(static_cast<float>(r) / 255.0f, static_cast<float>(g) / 255.0f, static_cast<float>(b) / 255.0f, a);
}

}  // namespace

bool loadFonts(Fonts& fonts, float textScale, const std::filesystem::path& fontDir) {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  // The texture as tall as the glyphs need, not the next power of two (up to half of it empty).
  io.Fonts->Flags |= ImFontAtlasFlags_NoPowerOfTwoHeight;
  const std::string regular = (fontDir / "DejaVuSans.ttf").string();
  const std::string bold = (fontDir / "DejaVuSans-Bold.ttf").string();
  ImFontConfig config;
  // No horizontal oversampling: at these sizes it buys nothing visible and doubles the atlas.
  config.OversampleH = 1;
  config.OversampleV = 1;
  fonts.body = io.Fonts->AddFontFromFileTTF(regular.c_str(), 30.0f * textScale, &config, kGlyphRanges);
  // Headings start large: they grow to 150% while body text grows to 200%, so at the largest
  // size a screen's question and answers still share the screen.
  fonts.title = io.Fonts->AddFontFromFileTTF(bold.c_str(), 46.0f * std::min(textScale, 1.5f), &config, kGlyphRanges);
  fonts.small = io.Fonts->AddFontFromFileTTF(regular.c_str(), 24.0f * textScale, &config, kGlyphRanges);
  fonts.key = io.Fonts->AddFontFromFileTTF(bold.c_str(), 32.0f * textScale, &config, kGlyphRanges);
  fonts.scale = textScale;
  if (fonts.body == nullptr || fonts.title == nullptr || fonts.small == nullptr || fonts.key == nullptr) {
    io.Fonts->Clear();
    fonts.body = fonts.title = fonts.small = fonts.key = io.Fonts->AddFontDefault();
    return false;
  }
  return true;
}

void applyTheme(bool highContrast) {
  ImGuiStyle& style = ImGui::GetStyle();
  style = ImGuiStyle();
  style.WindowPadding = ImVec2(32, 24);
  style.FramePadding = ImVec2(20, 6);  // small vertical padding keeps large text centred in 64 px targets
  style.ItemSpacing = ImVec2(16, 16);
  style.FrameRounding = 14.0f;
  style.WindowRounding = 0.0f;
  style.ScrollbarSize = 28.0f;
  style.GrabMinSize = 40.0f;
  style.CellPadding = ImVec2(12, 10);
  ImVec4* c = style.Colors;
  if (highContrast) {
    c[ImGuiCol_WindowBg] = rgb(0, 0, 0);
    c[ImGuiCol_ChildBg] = rgb(0, 0, 0);
    c[ImGuiCol_Text] = rgb(255, 255, 255);
    c[ImGuiCol_TextDisabled] = rgb(200, 200, 200);
    c[ImGuiCol_Button] = rgb(0, 0, 0);
    c[ImGuiCol_ButtonHovered] = rgb(40, 40, 40);
    c[ImGuiCol_ButtonActive] = rgb(255, 221, 0);
    c[ImGuiCol_FrameBg] = rgb(0, 0, 0);
    c[ImGuiCol_Border] = rgb(255, 255, 255);
    c[ImGuiCol_TableHeaderBg] = rgb(30, 30, 30);
    c[ImGuiCol_TableRowBg] = rgb(0, 0, 0);
    c[ImGuiCol_TableRowBgAlt] = rgb(20, 20, 20);
    c[ImGuiCol_Header] = rgb(255, 221, 0, 0.35f);
    style.FrameBorderSize = 3.0f;
  } else {
    c[ImGuiCol_WindowBg] = rgb(246, 243, 238);
    c[ImGuiCol_ChildBg] = rgb(246, 243, 238, 0.0f);
    c[ImGuiCol_Text] = rgb(31, 42, 46);
    c[ImGuiCol_TextDisabled] = rgb(110, 118, 120);
    c[ImGuiCol_Button] = rgb(255, 255, 255);
    c[ImGuiCol_ButtonHovered] = rgb(232, 240, 239);
    c[ImGuiCol_ButtonActive] = rgb(208, 228, 226);
    c[ImGuiCol_FrameBg] = rgb(255, 255, 255);
    c[ImGuiCol_Border] = rgb(168, 186, 184);
    c[ImGuiCol_TableHeaderBg] = rgb(226, 235, 233);
    c[ImGuiCol_TableRowBg] = rgb(255, 255, 255);
    c[ImGuiCol_TableRowBgAlt] = rgb(248, 250, 249);
    c[ImGuiCol_Header] = rgb(47, 111, 115, 0.20f);
    style.FrameBorderSize = 2.0f;
  }
  c[ImGuiCol_ScrollbarBg] = c[ImGuiCol_WindowBg];
}

}  // namespace anteroom::kiosk::ui
