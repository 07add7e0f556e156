// What the UI reports back: a press of a named widget or typed text. Queued during the frame
// and applied by the app after it (a button never writes to the store itself).
#pragma once

#include <string>
#include <vector>

namespace anteroom::kiosk {

struct Intent {
  enum class Kind {
    Press,      // a button, tile, tab or row action: id is its widget id
    Text,       // characters from the on-screen keyboard, a physical keyboard or a scanner
    Backspace,
    Clear,
    Enter,      // the keyboard's enter key / a scanner's trailing newline
  };
  Kind kind = Kind::Press;
  std::string id;
  std::string text;

  static Intent press(std::string id) { return {Kind::Press, std::move(id), {}}; }
  static Intent typed(std::string text) { return {Kind::Text, {}, std::move(text)}; }
  static Intent backspace() { return {Kind::Backspace, {}, {}}; }
  static Intent clear() { return {Kind::Clear, {}, {}}; }
  static Intent enter() { return {Kind::Enter, {}, {}}; }
};

using Intents = std::vector<Intent>;

}  // namespace anteroom::kiosk
