// The kiosk's screens drawn with Dear ImGui: a const view-model in, intents out.
// No SQL and no decisions here; the flows in kiosk/app decide.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "anteroom/kiosk/intents.hpp"
#include "anteroom/kiosk/view_model.hpp"

struct ImFont;

namespace anteroom::kiosk::ui {

struct Rect {
  float x = 0, y = 0, w = 0, h = 0;
  float textW = 0;  // the room its text needs (widest line plus padding); 0 when it shows none
  // A button's label as drawn, in pixels: the font's size, or less when a word had to shrink to
  // fit (see touchButton); 0 for what is not a button.
  float textPx = 0;
  bool cut = false;  // the scrolled region shows only part of it (the rest is above or below)
  bool operator==(const Rect&) const = default;
};
// Named widget -> its visible rectangle in window pixels (the part a scrolled region does not
// hide; absent when none is visible), for tests that tap widgets with real X events.
using WidgetMap = std::map<std::string, Rect>;

struct Fonts {
  ImFont* body = nullptr;
  ImFont* title = nullptr;
  ImFont* small = nullptr;
  ImFont* key = nullptr;
  float scale = 0.0f;  // the text scale the atlas was built for
};

// Builds the font atlas for a text scale (call before NewFrame, then uploadFontTexture()).
// Fonts come from the fonts-dejavu-core package.
bool loadFonts(Fonts& fonts, float textScale, const std::filesystem::path& fontDir);

// Replaces the GL font texture with the atlas just built (one byte a pixel where the GL has
// texture swizzle, else the backend's RGBA) and frees the atlas's CPU-side pixels. Needs the
// current GL context and the OpenGL 3 backend initialised.
void uploadFontTexture();

// Colours and spacing for the calm default or the high-contrast theme.
void applyTheme(bool highContrast);

// Draws one frame filling the display. Records named widgets into `widgets` (cleared first).
void drawFrame(const FrameVm& vm, const Fonts& fonts, Intents& intents, WidgetMap& widgets);

// The widget map as JSON: {"welcome.check_in":{"x":..,"y":..,"w":..,"h":..,"tw":..,"px":..},...}
std::string widgetMapJson(const WidgetMap& widgets);

}  // namespace anteroom::kiosk::ui
