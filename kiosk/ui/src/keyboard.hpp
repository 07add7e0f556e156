// On-screen keyboards (no physical keyboard on the kiosk; scanners type like one).
#pragma once

#include "widgets.hpp"

namespace anteroom::kiosk::ui {

// Fits the keys into width x height, never below the minimum touch target.
void drawKeyboard(DrawContext& ctx, KeyboardKind kind, float width, float height);

}  // namespace anteroom::kiosk::ui
