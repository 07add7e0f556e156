// What a screen shows, as plain data: the UI draws it and never decides anything itself.
// Every string here is already translated; widget ids are stable dotted names ("welcome.check_in").
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace anteroom::kiosk {

// Text sizes a patient steps through, to 200% (WCAG 1.4.4). The chrome's button names the
// current one ("Text size 150%").
inline constexpr int kTextSizeSteps = 5;
inline constexpr float textScaleFor(int step) { return 1.0f + 0.25f * static_cast<float>(step % kTextSizeSteps); }
inline constexpr int textPercentFor(int step) { return 100 + 25 * (step % kTextSizeSteps); }

enum class ButtonStyle { Primary, Secondary, Tile, Danger, Link };

struct ButtonVm {
  std::string id;
  std::string label;
  ButtonStyle style = ButtonStyle::Secondary;
  bool enabled = true;
  bool selected = false;  // multi-select tiles and the current tab
};

// What the on-screen keyboard offers for the field.
// Code offers only the characters check-in codes use; MemberId adds digits and a dash.
enum class KeyboardKind { None, Letters, Email, Code, MemberId, Digits, Pin };

struct FieldVm {
  std::string id;       // "checkin.last_name"
  std::string label;    // the one question of the screen
  std::string value;    // as typed (masked with dots for a PIN)
  std::string hint;     // e.g. "MM / DD / YYYY"
  KeyboardKind keyboard = KeyboardKind::Letters;
};

struct TableVm {
  std::string id;                   // "staff.today"
  std::vector<std::string> columns;
  struct Row {
    std::string id;                 // record id (never shown)
    std::vector<std::string> cells;
    std::vector<ButtonVm> actions;  // per-row buttons, ids "<table>.<action>.<row>"
    bool highlighted = false;
  };
  std::vector<Row> rows;
  std::string empty;                // shown when there are no rows
  // The UI's measure of the room each column's words need, taken once per build and text size
  // (10,000 rows are not measured every frame); a rebuilt view-model starts without one.
  struct Measured {
    float fontSize = 0.0f;
    std::vector<float> widestWord;  // per column: the least it can have, its cells wrapping
    std::vector<float> widestText;  // per column: what it needs for every cell on one line
  };
  mutable Measured measured;
};

struct ScreenVm {
  std::string id;     // "welcome", "checkin.dob", "staff.waitlist", ...
  std::string title;
  std::vector<std::string> body;  // short paragraphs
  // The body is left out when it would push the choices below the fold (the welcome's "take
  // your time": at 200% on a tablet it would hide both ways in). Only for text a patient can do
  // without.
  bool bodyGivesWay = false;
  std::optional<FieldVm> field;
  std::vector<ButtonVm> choices;   // large tiles, in a grid
  bool multiSelect = false;
  std::vector<ButtonVm> tabs;      // staff mode
  std::optional<TableVm> table;
  std::vector<std::string> detail; // staff: the selected row's explanation
  std::vector<ButtonVm> actions;   // bottom bar (back, continue)
  // The bottom bar holds the settings (language, text size, contrast: the welcome), which flows
  // show in the top bar's smaller font; they take it too when the body font would wrap them to
  // three lines.
  bool actionsAreSettings = false;
  std::string error;               // shown near the field, kind and actionable
  std::string notice;              // calm information (e.g. "never synced")
};

// "Are you still there?": shown over a patient screen before the idle reset wipes it.
struct IdleWarningVm {
  std::string title;
  std::string body;      // with the seconds left
  ButtonVm stillHere;    // "idle.still_here"; any tap keeps the answers
};

// Everything the frame needs: the screen plus the chrome around it.
struct FrameVm {
  ScreenVm screen;
  std::string practiceName;
  std::string crisisLine;      // always visible
  std::string languageButton;  // label of the language toggle ("Español" while in English)
  std::string textSizeButton;
  std::string contrastButton;
  std::string staffButton;
  std::string homeButton;
  // The same three buttons' short labels ("Text 200%"), which the top bar takes at large text
  // sizes when the full ones would wrap: one row of buttons instead of two lines each.
  std::string homeButtonShort;
  std::string textSizeButtonShort;
  std::string contrastButtonShort;
  bool staffMode = false;
  std::string staffName;       // the unlocked staff member
  bool highContrast = false;
  float textScale = 1.0f;      // textScaleFor(step): 1.0 .. 2.0
  std::string language;        // "en" | "es"
  bool patientMode = true;     // clipboard and anything else convenient for developers are off
  std::optional<IdleWarningVm> idleWarning;
};

}  // namespace anteroom::kiosk
