// The layout test: every patient and staff screen, in English and Spanish, at every text size
// and in both themes, drawn headless with the real screens and fonts. Every widget lies inside
// the window and above the crisis bar, no label needs more room than its widget has nor is
// drawn smaller than its siblings', the bottom bar is always whole on screen, what was typed
// (and its error) shows without a drag, and what does not fit is reached by dragging a finger
// (which taps nothing on the way).
#include <doctest/doctest.h>
#include <imgui.h>

#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "anteroom/kiosk/ui.hpp"
#include "kiosk_fixture.hpp"

using namespace anteroom;
using namespace anteroom::test;
namespace ui = anteroom::kiosk::ui;

namespace {

constexpr float kWidth = 1280.0f;
constexpr float kHeight = 800.0f;
constexpr const char* kFontDir = "/usr/share/fonts/truetype/dejavu";

// ImGui without a window or GPU: the font atlas is built on the CPU, frames are laid out and
// thrown away. Input is given as the mouse's position and button per frame.
class Headless {
 public:
  Headless() {
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    io.LogFilename = nullptr;
    io.DisplaySize = ImVec2(kWidth, kHeight);
    io.DeltaTime = 1.0f / 60.0f;
  }
  ~Headless() { ImGui::DestroyContext(); }
  Headless(const Headless&) = delete;
  Headless& operator=(const Headless&) = delete;

  // One frame of `vm` with the mouse at `mouse` (button down or not); returns the widget map.
  ui::WidgetMap frame(const kiosk::FrameVm& vm, kiosk::Intents& intents, ImVec2 mouse = ImVec2(-FLT_MAX, -FLT_MAX),
                      bool down = false) {
    if (m_fonts.scale != vm.textScale) {
      REQUIRE(ui::loadFonts(m_fonts, vm.textScale, kFontDir));
      unsigned char* pixels = nullptr;
      int w = 0, h = 0;
      ImGui::GetIO().Fonts->GetTexDataAsAlpha8(&pixels, &w, &h);
    }
    ui::applyTheme(vm.highContrast);
    ImGuiIO& io = ImGui::GetIO();
    io.MousePos = mouse;
    io.MouseDown[0] = down;
    ImGui::NewFrame();
    ui::WidgetMap widgets;
    ui::drawFrame(vm, m_fonts, intents, widgets);
    ImGui::Render();
    return widgets;
  }

  // A screen settles in a few frames (tables size their columns, scroll resets apply).
  [[nodiscard]] const ui::Fonts& fonts() const { return m_fonts; }

  ui::WidgetMap settled(const kiosk::FrameVm& vm) {
    kiosk::Intents ignored;
    ui::WidgetMap map;
    for (int i = 0; i < 3; ++i) map = frame(vm, ignored);
    return map;
  }

 private:
  ui::Fonts m_fonts;
};

struct Combination {
  std::string language;
  int textStep = 0;
  bool highContrast = false;
  [[nodiscard]] std::string name() const {
    return language + " " + std::to_string(kiosk::textPercentFor(textStep)) + "% " +
           (highContrast ? "high contrast" : "default theme");
  }
};

// Sets language, size and contrast with the welcome screen's buttons, as a patient would.
void choose(Driver& d, const Combination& c) {
  REQUIRE(d.screen() == "welcome");
  if (d.app.frame().language != c.language) d.press("welcome.language");
  for (int i = 0; i < kiosk::kTextSizeSteps && d.app.frame().textScale != kiosk::textScaleFor(c.textStep); ++i)
    d.press("welcome.text_size");
  if (d.app.frame().highContrast != c.highContrast) d.press("welcome.contrast");
  REQUIRE(d.app.frame().language == c.language);
  REQUIRE(d.app.frame().textScale == kiosk::textScaleFor(c.textStep));
}

std::string describe(const std::string& id, const ui::Rect& r) {
  std::ostringstream out;
  out << id << " at (" << r.x << "," << r.y << ") " << r.w << "x" << r.h << " needing " << r.textW;
  return out.str();
}

// Buttons of one kind (ids that differ only after the last dot, in one place: the staff tabs, a
// question's tiles, the keys, the bottom bar) have their labels drawn at one size: a word too
// long for its button is never shrunk below its siblings'.
void checkSiblings(const ui::WidgetMap& map, const kiosk::ScreenVm& screen) {
  std::set<std::string> inBar;
  for (const auto& a : screen.actions) inBar.insert(a.id);
  const auto kind = [&](const std::string& id) { return id.substr(0, id.rfind('.')) + (inBar.contains(id) ? " (bar)" : ""); };
  std::map<std::string, std::pair<std::string, float>> largest;  // kind -> the largest label drawn
  for (const auto& [id, r] : map) {
    if (r.textPx <= 0.0f) continue;
    auto& [who, px] = largest[kind(id)];
    if (r.textPx > px) {
      who = id;
      px = r.textPx;
    }
  }
  for (const auto& [id, r] : map) {
    if (r.textPx <= 0.0f) continue;
    const auto& [who, px] = largest.at(kind(id));
    CHECK_MESSAGE(r.textPx >= px - 0.5f, id << "'s label is drawn at " << r.textPx << " px, " << who << "'s at " << px);
  }
}

// Every rule a person would notice, for one screen as drawn (and after scrolling it).
void checkScreen(Headless& h, const kiosk::FrameVm& vm, const Combination& c) {
  INFO(c.name() << ", screen " << vm.screen.id);
  const ui::WidgetMap top = h.settled(vm);
  REQUIRE(top.contains("chrome.crisis_line"));
  const ui::Rect footer = top.at("chrome.crisis_line");
  CHECK_MESSAGE(footer.textW <= kWidth, "the crisis line is wider than the window");

  std::set<std::string> seen;
  const auto checkMap = [&](const ui::WidgetMap& map) {
    for (const auto& [id, r] : map) {
      seen.insert(id);
      if (id == "chrome.crisis_line") continue;
      INFO(describe(id, r));
      CHECK_MESSAGE(r.x >= -0.5f, "left of the window");
      CHECK_MESSAGE(r.y >= -0.5f, "above the window");
      CHECK_MESSAGE(r.x + r.w <= kWidth + 0.5f, "past the window's right edge");
      CHECK_MESSAGE(r.y + r.h <= footer.y + 0.5f, "under the crisis bar");
      CHECK_MESSAGE(r.textW <= r.w + 1.0f, "its text is cut off");
    }
  };
  checkMap(top);
  checkSiblings(top, vm.screen);
  // What the patient has typed, and what is wrong with it, show without a drag: whole, above
  // the bottom bar and clear of the fade that says more is below (48 px, 16 px above the bar).
  if (!vm.staffMode && vm.screen.field && !vm.screen.actions.empty()) {
    const float clearOfFade = top.at(vm.screen.actions.front().id).y - 16.0f - 48.0f;
    std::vector<std::string> shown;
    if (!vm.screen.field->value.empty()) shown.push_back(vm.screen.field->id);
    if (!vm.screen.error.empty()) shown.push_back("screen.error");
    for (const auto& id : shown) {
      REQUIRE_MESSAGE(top.contains(id), id << " is out of view");
      INFO(describe(id, top.at(id)));
      CHECK_MESSAGE(top.at(id).y + top.at(id).h <= clearOfFade + 0.5f, id << " is cut off or under the fade");
    }
  }

  // The welcome's two ways in show whole without a drag at every size (its sentence gives
  // way). Other screens' tiles may need one; the drags below bring every tile into view.
  if (vm.screen.id == "welcome") {
    for (const auto& b : vm.screen.choices) {
      CHECK_MESSAGE(top.contains(b.id), "tile " << b.id << " is out of view");
      if (top.contains(b.id)) CHECK_MESSAGE(!top.at(b.id).cut, "tile " << b.id << " is cut off: " << describe(b.id, top.at(b.id)));
    }
  }

  // A short question with up to three answers and no sentences to read first (have you been
  // here, how would you like your appointments, who is signing in) shows them all with it,
  // without a drag: at 175-200% the top bar takes short labels and the answers go side by side.
  // (A question of three lines and more, or with four answers as the consent's channels at 200%
  // in Spanish, shows its first answers and takes a drag for the rest.)
  const float titleLine = 1.3f * 46.0f * std::min(kiosk::textScaleFor(c.textStep), 1.5f);
  const bool shortQuestion = top.contains("screen.title") && top.at("screen.title").h <= 2.0f * titleLine;
  if (vm.screen.id != "welcome" && !vm.staffMode && vm.screen.tabs.empty() && !vm.screen.field && vm.screen.body.empty() &&
      vm.screen.notice.empty() && !vm.screen.choices.empty() && vm.screen.choices.size() <= 3 && shortQuestion) {
    for (const auto& b : vm.screen.choices) {
      CHECK_MESSAGE(top.contains(b.id), "answer " << b.id << " is out of view");
      if (top.contains(b.id)) CHECK_MESSAGE(!top.at(b.id).cut, "answer " << b.id << " needs a drag: " << describe(b.id, top.at(b.id)));
    }
  }
  // A staff board's title shows under its tabs without a drag.
  if (!vm.screen.tabs.empty() && !vm.screen.title.empty()) {
    REQUIRE_MESSAGE(top.contains("screen.title"), "the board's title is out of view");
    CHECK_MESSAGE(!top.at("screen.title").cut, "the board's title needs a drag: " << describe("screen.title", top.at("screen.title")));
  }

  // The practice's name is always in the header, and the bottom bar always whole on screen.
  if (!vm.practiceName.empty()) CHECK_MESSAGE(top.contains("chrome.practice"), "the practice's name is missing");
  for (const auto& a : vm.screen.actions) {
    if (vm.staffMode) break;  // staff actions belong to a board that scrolls
    INFO("action " << a.id);
    REQUIRE_MESSAGE(top.contains(a.id), "navigation is not on screen");
    CHECK(top.at(a.id).h >= 64.0f);
  }
  for (const auto& t : vm.screen.tabs) CHECK_MESSAGE(top.contains(t.id), "tab " << t.id << " is not on screen");

  // Patient screens: drag the content up with a finger until it stops moving. Nothing is
  // tapped by the drags, the bottom bar stays put, and every tile and the field come into view.
  if (vm.staffMode || !vm.screen.tabs.empty()) return;
  const float areaTop = top.contains("screen.title") ? top.at("screen.title").y : 200.0f;
  float areaBottom = footer.y - 10.0f;
  for (const auto& a : vm.screen.actions) areaBottom = std::min(areaBottom, top.at(a.id).y - 10.0f);
  ui::WidgetMap last = top;
  // Each drag runs from the bottom bar up to where the heading started; a screen whose heading
  // sits low (lines above the question at 200%) takes more, shorter drags.
  for (int drag = 0; drag < 30; ++drag) {
    kiosk::Intents intents;
    const float x = kWidth / 2.0f - 20.0f;  // mid-screen: the finger often starts on a tile or key
    const float from = areaBottom - 5.0f;
    const float to = std::max(areaTop + 5.0f, from - 260.0f);
    h.frame(vm, intents, ImVec2(x + 20.0f, from), false);
    h.frame(vm, intents, ImVec2(x + 20.0f, from), true);
    for (float y = from; y >= to; y -= 20.0f) h.frame(vm, intents, ImVec2(x + 20.0f, y), true);
    const ui::WidgetMap after = h.frame(vm, intents, ImVec2(x + 20.0f, to), false);
    CHECK_MESSAGE(intents.empty(), "a drag to scroll tapped " << (intents.empty() ? "" : intents.front().id));
    const ui::WidgetMap map = h.settled(vm);
    checkMap(map);
    for (const auto& a : vm.screen.actions) CHECK_MESSAGE(map.at(a.id) == top.at(a.id), "the bottom bar moved");
    // Dragged up to the keys, a patient still sees what they typed: the answer box whole, or
    // its echo in the bottom bar (whole, its text within it).
    if (vm.screen.field && !vm.screen.field->value.empty() && vm.screen.actions.size() == 2) {
      const std::string& id = vm.screen.field->id;
      const bool boxShown = map.contains(id) && !map.at(id).cut;
      CHECK_MESSAGE((boxShown || map.contains("field.echo")), "what was typed is out of view after drag " << drag);
      if (!boxShown && map.contains("field.echo")) CHECK(map.at("field.echo").textW <= map.at("field.echo").w + 1.0f);
    }
    if (map == last) break;
    last = map;
  }
  for (const auto& b : vm.screen.choices) CHECK_MESSAGE(seen.contains(b.id), "tile " << b.id << " is never in view");
  if (vm.screen.field) CHECK_MESSAGE(seen.contains(vm.screen.field->id), "the answer box is never in view");
  if (vm.screen.field && vm.screen.field->keyboard != kiosk::KeyboardKind::None)
    CHECK_MESSAGE(seen.contains("kb.backspace"), "the keyboard's last keys are never in view");
}

std::string dobFor(const std::string& language, std::string_view monthFirst) {
  const std::string s(monthFirst);
  return language == "en" ? s : s.substr(2, 2) + s.substr(0, 2) + s.substr(4);
}

// Walks every screen once for a combination, checking each.
void walkEverything(const Combination& c) {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  Headless h;
  std::set<std::string> visited;
  const auto visit = [&] {
    visited.insert(d.screen());
    checkScreen(h, app.frame(), c);
  };
  const auto home = [&] {
    d.press("chrome.home");
    choose(d, c);
  };

  // Check-in by name: a long name, a wrong date (its error shown), then the right one.
  choose(d, c);
  visit();
  d.press("welcome.check_in");
  d.type("peña-thistlewood");
  visit();
  d.press("nav.continue");
  REQUIRE(d.screen() == "checkin.dob");
  d.type("13451986");
  d.press("nav.continue");
  CHECK_FALSE(d.error().empty());
  visit();
  app.apply(kiosk::Intent::clear(), d.now);
  d.type(dobFor(c.language, "04121986"));
  d.press("nav.continue");
  REQUIRE(d.screen() == "checkin.confirm");
  visit();
  d.press("checkin.confirm");
  REQUIRE(d.screen() == "checkin.done");
  visit();
  home();

  // A code that does not look right, then lookups that find nobody until the pause.
  d.press("welcome.check_in");
  d.press("checkin.use_code");
  d.type("zz");
  d.press("nav.continue");
  CHECK_FALSE(d.error().empty());
  visit();
  d.press("checkin.use_name");
  for (int i = 0; i < 12 && d.screen() != "rate_limited"; ++i) {
    if (d.screen() == "front_desk") {
      visit();
      d.press("checkin.try_again");
    }
    d.type("nobodyhere");
    d.press("nav.continue");
    d.type(dobFor(c.language, "01021990"));
    // While the lookup is on the worker: "Looking that up…", and the buttons wait.
    app.apply(kiosk::Intent::press("nav.continue"), d.now);
    if (i == 0) visit();
    app.finishPendingWork(d.now);
  }
  REQUIRE(d.screen() == "rate_limited");
  visit();
  d.advance(std::chrono::seconds{61});
  choose(d, c);

  // A new patient joins the waitlist.
  d.press("welcome.join_waitlist");
  visit();
  d.press("waitlist.new");
  d.type("maría-fernanda");
  visit();
  // "Are you still there?" over the question, at this size and language.
  d.advance(app.config().idleTimeout - std::chrono::seconds{5});
  REQUIRE(app.frame().idleWarning.has_value());
  {
    INFO(c.name() << ", the idle warning");
    const ui::WidgetMap map = h.settled(app.frame());
    REQUIRE(map.contains("idle.still_here"));
    const ui::Rect r = map.at("idle.still_here");
    CHECK(r.y + r.h <= map.at("chrome.crisis_line").y);
    CHECK(r.textW <= r.w + 1.0f);
  }
  d.press("idle.still_here");
  d.press("nav.continue");
  d.type("oyelaran-villaseñor");
  visit();
  d.press("nav.continue");
  d.type(dobFor(c.language, "03151992"));
  visit();
  d.press("nav.continue");
  d.type("5415550199");
  visit();
  d.press("nav.continue");
  d.type("not-an-email");
  d.press("nav.continue");
  CHECK_FALSE(d.error().empty());
  visit();
  app.apply(kiosk::Intent::clear(), d.now);
  d.type("maria.ov@patients.example");
  d.press("nav.continue");
  REQUIRE(d.screen() == "waitlist.insurance");
  visit();
  d.press("waitlist.insurance.self_pay");
  visit();
  d.press("waitlist.mode.telehealth");
  REQUIRE(d.screen() == "waitlist.concerns");
  d.press("waitlist.concern.trauma_ptsd");
  d.press("waitlist.concern.grief");
  visit();
  d.press("nav.continue");
  d.press("waitlist.time.weekday_evening");
  visit();
  d.press("nav.continue");
  visit();
  d.press("waitlist.provider.any");
  visit();
  d.press("waitlist.consent.sms");
  visit();
  d.press("waitlist.discretion.general");
  visit();
  d.press("waitlist.privacy.received");
  REQUIRE(d.screen() == "waitlist.review");
  visit();
  d.press("waitlist.submit");
  REQUIRE(d.screen() == "waitlist.done");
  visit();
  d.press("nav.done");
  choose(d, c);

  // Staff: names ("Loading…" first), a wrong PIN (its message shown), then every board.
  app.apply(kiosk::Intent::press("welcome.staff"), d.now);
  visit();
  app.finishPendingWork(d.now);
  visit();
  const auto users = fx.store.staffUsers().value();
  const auto jordan = std::find_if(users.begin(), users.end(), [](const StaffUser& u) { return u.displayName.starts_with("Jordan"); });
  REQUIRE(jordan != users.end());
  d.press("staff.user." + jordan->staffId.toString());
  d.type("1111");
  d.press("nav.continue");
  CHECK_FALSE(d.error().empty());
  visit();
  d.type("2468");
  d.press("nav.continue");
  REQUIRE(d.screen() == "staff.today");
  visit();
  app.apply(kiosk::Intent::press("staff.tab.waitlist"), d.now);
  visit();  // "Loading…" until the worker's read lands
  app.finishPendingWork(d.now);
  REQUIRE(app.frame().screen.table.has_value());
  REQUIRE_FALSE(app.frame().screen.table->rows.empty());
  d.press(app.frame().screen.table->rows.front().actions.front().id);
  visit();
  d.press("staff.tab.slots");
  REQUIRE(app.frame().screen.table.has_value());
  if (!app.frame().screen.table->rows.empty()) d.press(app.frame().screen.table->rows.front().actions.front().id);
  visit();
  d.press("staff.tab.sync");
  visit();
  d.press("staff.tab.settings");
  visit();

  // Every screen of the kiosk but the two that need unusual data (two appointments at once,
  // a same-day opening) was drawn.
  CHECK(visited.size() >= 28);
}

}  // namespace

TEST_CASE("layout: every screen in English and Spanish, at every text size, in both themes, fits and scrolls") {
  for (const std::string language : {"en", "es"}) {
    for (int step = 0; step < kiosk::kTextSizeSteps; ++step) {
      for (const bool contrast : {false, true}) {
        const Combination c{language, step, contrast};
        CAPTURE(c.name());
        walkEverything(c);
      }
    }
  }
}

TEST_CASE("layout: text sizes go to 200% in five steps, and the button says which one is on") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  CHECK(app.frame().textScale == 1.0f);
  CHECK(app.frame().textSizeButton == "Text size 100%");
  std::vector<float> scales;
  for (int i = 0; i < kiosk::kTextSizeSteps; ++i) {
    d.press("welcome.text_size");
    scales.push_back(app.frame().textScale);
  }
  CHECK(scales == std::vector<float>{1.25f, 1.5f, 1.75f, 2.0f, 1.0f});
  d.press("welcome.text_size");
  d.press("welcome.text_size");
  d.press("welcome.text_size");
  d.press("welcome.check_in");
  CHECK(app.frame().textSizeButton == "Text size 175%");
  d.press("chrome.language");
  CHECK(app.frame().textSizeButton == "Tamaño del texto 175 %");
}

TEST_CASE("keyboards: the code keyboard offers only what codes contain, member ids get a dash, the phone reads as typed, Done stays right") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  Headless h;
  d.press("welcome.check_in");
  d.press("checkin.use_code");
  {
    const auto map = h.settled(app.frame());
    for (const char* absent : {"kb.i", "kb.l", "kb.o", "kb.0", "kb.1", "kb.n_tilde", "kb.dash"})
      CHECK_MESSAGE(!map.contains(absent), absent << " is on the code keyboard");
    for (const char* present : {"kb.a", "kb.z", "kb.2", "kb.9", "kb.backspace"})
      CHECK_MESSAGE(map.contains(present), present << " is missing from the code keyboard");
  }
  d.press("chrome.home");
  d.press("welcome.join_waitlist");
  d.press("waitlist.new");
  d.type("marisol");
  d.press("nav.continue");
  d.type("quintanilla");
  d.press("nav.continue");
  d.type("03151992");
  d.press("nav.continue");
  REQUIRE(d.screen() == "waitlist.phone");
  d.type("5415550");
  CHECK(app.frame().screen.field->value == "(541) 555-0");
  d.type("199");
  CHECK(app.frame().screen.field->value == "(541) 555-0199");
  d.press("nav.continue");
  d.type("marisol.kb@patients.example");
  d.press("nav.continue");
  d.press("waitlist.insurance.payer.0");
  REQUIRE(d.screen() == "waitlist.member_id");
  {
    const auto map = h.settled(app.frame());
    for (const char* present : {"kb.dash", "kb.0", "kb.a", "kb.backspace"})
      CHECK_MESSAGE(map.contains(present), present << " is missing from the member-id keyboard");
    CHECK_FALSE(map.contains("kb.n_tilde"));
  }
  d.type("ab-1234");
  CHECK(app.frame().screen.field->value.starts_with("AB-1234"));
  // "Done" is on the right wherever it shows, alone or beside another button.
  d.press("chrome.home");
  d.press("welcome.check_in");
  d.type("nobodyhere");
  d.press("nav.continue");
  d.type("01021990");
  d.press("nav.continue");
  REQUIRE(d.screen() == "front_desk");
  const auto desk = h.settled(app.frame());
  d.press("nav.done");
  d.press("welcome.check_in");
  d.type("peña-thistlewood");
  d.press("nav.continue");
  d.type("04121986");
  d.press("nav.continue");
  d.press("checkin.confirm");
  REQUIRE(d.screen() == "checkin.done");
  const auto done = h.settled(app.frame());
  REQUIRE(desk.contains("nav.done"));
  REQUIRE(done.contains("nav.done"));
  const auto right = [](const ui::Rect& r) { return r.x + r.w; };
  CHECK(right(done.at("nav.done")) == doctest::Approx(right(desk.at("nav.done"))).epsilon(0.001));
  CHECK(right(done.at("nav.done")) > kWidth - 80.0f);
}

namespace {

// `text` as the kiosk wraps it at `width` in `font` (ImGui's word wrap, as paragraphs use).
std::vector<std::string> wrappedLines(ImFont* font, const std::string& text, float width) {
  std::vector<std::string> lines;
  const char* end = text.c_str() + text.size();
  for (const char* line = text.c_str(); line < end;) {
    const char* next = font->CalcWordWrapPositionA(1.0f, line, end, width);
    if (next == line) ++next;
    const char* lineEnd = next;
    while (lineEnd > line && lineEnd[-1] == ' ') --lineEnd;
    lines.emplace_back(line, lineEnd);
    line = next;
    while (line < end && *line == ' ') ++line;
  }
  return lines;
}

}  // namespace

TEST_CASE("layout: a date in a sentence never breaks across lines, at any size and width") {
  for (const std::string language : {"en", "es"}) {
    for (int step = 0; step < kiosk::kTextSizeSteps; ++step) {
      const Combination c{language, step, false};
      CAPTURE(c.name());
      KioskFixture fx;
      auto app = fx.app();
      Driver d{app, fx.now};
      Headless h;
      choose(d, c);
      d.press("welcome.check_in");
      d.type("peña-thistlewood");
      d.press("nav.continue");
      REQUIRE(d.screen() == "checkin.dob");
      // A date that only works the other way round: the hint gives it the right way.
      d.type(dobFor(language == "en" ? "es" : "en", "04251986"));
      d.press("nav.continue");
      REQUIRE_FALSE(d.error().empty());
      h.settled(app.frame());
      std::vector<std::string> sentences = app.frame().screen.body;
      sentences.push_back(d.error());
      for (const auto& sentence : sentences) {
        for (float width = 300.0f; width <= kWidth; width += 7.0f) {
          for (const auto& line : wrappedLines(h.fonts().body, sentence, width)) {
            INFO("at " << width << " px: \"" << line << "\"");
            CHECK_FALSE(line.starts_with("/"));
            CHECK_FALSE(line.ends_with("/"));
          }
        }
      }
    }
  }
}
