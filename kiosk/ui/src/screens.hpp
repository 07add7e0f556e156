// The two screen layouts: one question per screen for patients, boards for staff.
#pragma once

#include "widgets.hpp"

namespace anteroom::kiosk::ui {

void drawPatientScreen(DrawContext& ctx, const ScreenVm& screen, float width, float height);
void drawStaffScreen(DrawContext& ctx, const ScreenVm& screen, float width);

}  // namespace anteroom::kiosk::ui
