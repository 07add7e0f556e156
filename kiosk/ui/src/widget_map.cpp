// Serialises the widget map for tests that tap widgets by name.
#include <cmath>

#include "anteroom/kiosk/ui.hpp"
#include "anteroom/model/json.hpp"

namespace anteroom::kiosk::ui {

std::string widgetMapJson(const WidgetMap& widgets) {
  Json::Object root;
  for (const auto& [id, r] : widgets) {
    Json::Object rect;
    rect.emplace("x", Json(static_cast<std::int64_t>(std::lround(r.x))));
    rect.emplace("y", Json(static_cast<std::int64_t>(std::lround(r.y))));
    rect.emplace("w", Json(static_cast<std::int64_t>(std::lround(r.w))));
    rect.emplace("h", Json(static_cast<std::int64_t>(std::lround(r.h))));
    if (r.textW > 0) rect.emplace("tw", Json(static_cast<std::int64_t>(std::lround(std::ceil(r.textW)))));
    if (r.textPx > 0) rect.emplace("px", Json(static_cast<std::int64_t>(std::lround(r.textPx))));
    if (r.cut) rect.emplace("cut", Json(true));
    root.emplace(id, Json(std::move(rect)));
  }
  return Json(std::move(root)).dump();
}

}  // namespace anteroom::kiosk::ui
