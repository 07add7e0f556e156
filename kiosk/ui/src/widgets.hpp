// Touch widgets shared by the screens: big buttons that record their rectangle by name.
#pragma once

#include <imgui.h>

#include <string>

#include "anteroom/kiosk/ui.hpp"

namespace anteroom::kiosk::ui {

inline constexpr float kMinTarget = 64.0f;  // every touch target is at least this tall and wide

struct DrawContext {
  const Fonts& fonts;
  Intents& intents;
  WidgetMap& widgets;
  bool highContrast = false;
};

// A button named `id`; pressing it queues Intent::press(id) unless `text` is given, in which
// case it queues that text (keyboard keys).
bool touchButton(DrawContext& ctx, const ButtonVm& button, ImVec2 size);
void record(DrawContext& ctx, const std::string& id);

// An error under a question: kind words in a colour that reads in both themes. Recorded as
// "screen.error".
void errorText(DrawContext& ctx, const std::string& error);

// Wrapped paragraph text in the current font.
void paragraph(const std::string& text);

}  // namespace anteroom::kiosk::ui
