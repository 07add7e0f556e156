// Touch widgets shared by the screens: big buttons that record their rectangle by name, labels
// that wrap instead of being cut off, and regions that scroll with a finger.
#pragma once

#include <imgui.h>

#include <string>
#include <vector>

#include "anteroom/kiosk/ui.hpp"

namespace anteroom::kiosk::ui {

inline constexpr float kMinTarget = 64.0f;      // every touch target is at least this tall and wide
inline constexpr float kDragThreshold = 24.0f;  // a finger that moves further scrolls; it does not tap

struct DrawContext {
  const Fonts& fonts;
  Intents& intents;
  WidgetMap& widgets;
  bool highContrast = false;
};

// The height a touch target needs in the current font: the minimum, or more for large text.
float targetHeight();

// A button named `id`; pressing it queues Intent::press(id). A label too wide for `size.x`
// wraps onto more lines (the button grows to hold them; buttonHeight() says how tall it will
// be), and a single word too wide for the button is drawn smaller: a label is never cut off.
// size.x <= 0 makes the button as wide as its label.
bool touchButton(DrawContext& ctx, const ButtonVm& button, ImVec2 size);
float buttonHeight(const ButtonVm& button, float width);
// How wide a button must be to show its label on one line.
float buttonNaturalWidth(const ButtonVm& button);
// How wide a button must be for its label to wrap without any word drawn smaller.
float buttonMinWidth(const ButtonVm& button);

// Records the last item under `id`: the part of it the current clip rectangle shows, with the
// width its text needed (and a button's, the size its label was drawn at). Items scrolled fully
// out of view are left out.
void record(DrawContext& ctx, const std::string& id, float textW = 0.0f, float textPx = 0.0f);
// The same for a rectangle that is not one item (a table cell: its column's width and the row).
void recordRect(DrawContext& ctx, const std::string& id, ImVec2 min, ImVec2 max, float textW, float textPx = 0.0f);
// The room `text` needs when it may wrap at spaces: its widest word, in the current font.
float widestWord(const std::string& text);

// An error under a question: kind words in a colour that reads in both themes. Recorded as
// "screen.error".
void errorText(DrawContext& ctx, const std::string& error);

// Wrapped paragraph text in the current font.
void paragraph(const std::string& text);

// A region that scrolls by dragging a finger (and the wheel), starting at the top each time
// `screenId` changes. Pair with endScrollArea().
void beginScrollArea(const char* name, const std::string& screenId, ImVec2 size);
void endScrollArea();
// Inside a scroll area: scrolls so the last item drawn is whole above the fade at the bottom,
// from the next frame, each time `shown` (what the item says) changes.
void keepLastItemInView(const std::string& shown);
// Drag-to-scroll for the current window (tables call it inside their scrolling body).
void touchScroll();

// Lines of `text` wrapped to `width` in the current font, drawn at `scale` (below 1 only when
// one word is wider than `width`).
struct WrappedText {
  std::vector<std::pair<const char*, const char*>> lines;
  float scale = 1.0f;
  float widest = 0.0f;  // the widest line as drawn
  float lineHeight = 0.0f;
};
WrappedText wrapText(const std::string& text, float width);

}  // namespace anteroom::kiosk::ui
