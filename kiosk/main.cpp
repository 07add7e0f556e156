// anteroom-kiosk: the GLFW window, the OpenGL backend and the frame loop. Everything it calls
// is testable without a window: the flows in kiosk/app, the screens in kiosk/ui.
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "anteroom/kiosk/kiosk_app.hpp"
#include "anteroom/kiosk/out_of_service.hpp"
#include "anteroom/kiosk/ui.hpp"
#include "anteroom/store/store.hpp"

using namespace anteroom;
using namespace anteroom::kiosk;

namespace {

constexpr const char* kUsage =
    "usage: anteroom-kiosk --db FILE --key-file FILE [--windowed WxH] [--widget-map FILE]\n"
    "                      [--assets DIR] [--idle-timeout SECONDS]\n"
    "  Full screen by default. The key is read from the key file only.\n";

struct Options {
  std::string db;
  std::string keyFile;
  int width = 0;
  int height = 0;
  std::string widgetMap;
  std::string assets = ANTEROOM_ASSETS_DIR;
  std::string fonts = "/usr/share/fonts/truetype/dejavu";
  int idleTimeout = 0;
};

// Any input wakes the loop for a few frames (ImGui needs one or two extra after an event).
bool g_input = false;
void markInput(GLFWwindow*, int, int, int, int) { g_input = true; }
void markChar(GLFWwindow*, unsigned int) { g_input = true; }
void markMouse(GLFWwindow*, int, int, int) { g_input = true; }
void markCursor(GLFWwindow*, double, double) { g_input = true; }
void markScroll(GLFWwindow*, double, double) { g_input = true; }
void markResize(GLFWwindow*, int, int) { g_input = true; }
void markRefresh(GLFWwindow*) { g_input = true; }

bool parse(int argc, char** argv, Options& o, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--help" || a == "-h") {
      error.clear();
      return false;
    }
    const char* v = value();
    if (v == nullptr) {
      error = a + " needs a value";
      return false;
    }
    if (a == "--db") o.db = v;
    else if (a == "--key-file") o.keyFile = v;
    else if (a == "--widget-map") o.widgetMap = v;
    else if (a == "--assets") o.assets = v;
    else if (a == "--fonts") o.fonts = v;
    else if (a == "--idle-timeout") o.idleTimeout = std::atoi(v);
    else if (a == "--windowed") {
      if (std::sscanf(v, "%dx%d", &o.width, &o.height) != 2 || o.width < 320 || o.height < 240) {
        error = "--windowed takes WIDTHxHEIGHT, e.g. 1280x800";
        return false;
      }
    } else {
      error = "unknown option " + a;
      return false;
    }
  }
  if (o.db.empty() || o.keyFile.empty()) {
    error = "--db and --key-file are required";
    return false;
  }
  return true;
}

void writeWidgetMap(const std::string& path, const std::string& json) {
  // Written to a temporary name and renamed, so a test never reads half a file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json;
  }
  std::rename(tmp.c_str(), path.c_str());
}

std::string utf8Of(unsigned int c) {
  std::string out;
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
  return out;
}

// ImGui's clipboard hooks: never hand patient text to the X selection.
const char* noClipboardGet(void*) { return ""; }
void noClipboardSet(void*, const char*) {}

// [SECTION] The window and the frame loop

GLFWwindow* createWindow(const Options& options) {
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  GLFWmonitor* monitor = nullptr;
  int width = options.width;
  int height = options.height;
  if (width == 0) {
    monitor = glfwGetPrimaryMonitor();
    const GLFWvidmode* mode = monitor != nullptr ? glfwGetVideoMode(monitor) : nullptr;
    width = mode != nullptr ? mode->width : 1280;
    height = mode != nullptr ? mode->height : 800;
  }
  GLFWwindow* window = glfwCreateWindow(width, height, "Anteroom", monitor, nullptr);
  if (window == nullptr) return nullptr;
  glfwMakeContextCurrent(window);
  glfwSwapInterval(1);
  glfwSetKeyCallback(window, markInput);
  glfwSetCharCallback(window, markChar);
  glfwSetMouseButtonCallback(window, markMouse);
  glfwSetCursorPosCallback(window, markCursor);
  glfwSetScrollCallback(window, markScroll);
  glfwSetFramebufferSizeCallback(window, markResize);
  glfwSetWindowRefreshCallback(window, markRefresh);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // no ini file: window state is not PHI, but nothing is written at all
  io.LogFilename = nullptr;
  io.ConfigInputTextCursorBlink = false;
  io.GetClipboardTextFn = noClipboardGet;
  io.SetClipboardTextFn = noClipboardSet;
  ImGui_ImplGlfw_InitForOpenGL(window, true);  // chains to the callbacks above
  ImGui_ImplOpenGL3_Init("#version 130");
  // Device objects now, so NewFrame never rebuilds the font texture behind our back (we free
  // the atlas's CPU pixels once our own fonts are uploaded).
  ImGui_ImplOpenGL3_CreateDeviceObjects();
  return window;
}

struct Display {
  GLFWwindow* window = nullptr;
  const Options& options;
  ui::Fonts fonts;
  bool highContrast = false;
  bool themed = false;
  ui::WidgetMap widgets;
  std::string lastMap;
};

// Runs frames for `source` (the kiosk, or the out-of-service screen) until the window closes
// (returns false) or `leave()` says so (returns true). Blocks while nothing is due.
template <class Source, class Leave>
bool runFrames(Display& screen, Source& source, Leave leave) {
  ImGuiIO& io = ImGui::GetIO();
  std::uint64_t drawnRevision = 0;
  int framesToDraw = 2;
  while (!glfwWindowShouldClose(screen.window)) {
    if (framesToDraw > 0) {
      glfwPollEvents();
    } else if (auto deadline = source.nextDeadline()) {
      const double wait = std::chrono::duration<double>(*deadline - nowUtc()).count();
      glfwWaitEventsTimeout(std::max(0.01, wait));
    } else {
      glfwWaitEvents();
    }
    source.tick(nowUtc());
    if (leave()) return true;
    if (g_input) {
      framesToDraw = std::max(framesToDraw, 3);
      g_input = false;
    }
    if (source.revision() != drawnRevision) framesToDraw = std::max(framesToDraw, 2);
    if (framesToDraw == 0) continue;
    --framesToDraw;

    const FrameVm& vm = source.frame();
    drawnRevision = source.revision();
    if (screen.fonts.scale != vm.textScale) {
      ui::loadFonts(screen.fonts, vm.textScale, screen.options.fonts);
      ui::uploadFontTexture();
    }
    if (!screen.themed || screen.highContrast != vm.highContrast) {
      screen.highContrast = vm.highContrast;
      screen.themed = true;
      ui::applyTheme(screen.highContrast);
    }

    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    Intents intents;
    // Physical keyboards and barcode scanners type into the current question.
    for (ImWchar c : io.InputQueueCharacters) {
      intents.push_back(Intent::typed(utf8Of(c)));
    }
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Backspace))) intents.push_back(Intent::backspace());
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Enter)) ||
        ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_KeyPadEnter)))
      intents.push_back(Intent::enter());
    ui::drawFrame(vm, screen.fonts, intents, screen.widgets);
    ImGui::Render();
    int fbw = 0, fbh = 0;
    glfwGetFramebufferSize(screen.window, &fbw, &fbh);
    glViewport(0, 0, fbw, fbh);
    glClearColor(0.96f, 0.95f, 0.93f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    glfwSwapBuffers(screen.window);

    // Intents are applied after the frame: a button never writes to the store mid-draw.
    source.applyAll(intents, nowUtc());
    if (!screen.options.widgetMap.empty()) {
      std::string json = ui::widgetMapJson(screen.widgets);
      json.pop_back();
      // "_screen" is the whole window (so every value is a rectangle) plus which screen it
      // shows and the frame-model revision: a test knows its tap was taken when either changes.
      json += ",\"_screen\":{\"h\":" + std::to_string(fbh) + ",\"id\":\"" + vm.screen.id +
              "\",\"revision\":" + std::to_string(drawnRevision) + ",\"w\":" + std::to_string(fbw) +
              ",\"x\":0,\"y\":0}}";
      if (json != screen.lastMap) {
        writeWidgetMap(screen.options.widgetMap, json);
        screen.lastMap = std::move(json);
      }
    }
  }
  return false;
}

// The store, opened three times: the UI thread's connection, the store worker's own and the
// reader's (finding 18: a write that waits for the sync daemon's lock waits on the worker, not
// the frame, and the screens' reads do not queue behind it).
struct Stores {
  store::Store ui;
  store::Store worker;
  store::Store reader;
};

// Opens the store; every failure is one line in the journal (no PHI in these messages).
std::optional<Stores> openStore(const Options& options) {
  auto key = store::SecretKey::readFile(options.keyFile);
  if (!key) {
    std::fprintf(stderr, "anteroom-kiosk: %s\n", key.error().message.c_str());
    return std::nullopt;
  }
  store::OpenOptions storeOptions;
  storeOptions.path = options.db;
  auto opened = store::Store::open(storeOptions, *key);
  if (!opened) {
    std::fprintf(stderr, "anteroom-kiosk: %s\n", opened.error().message.c_str());
    return std::nullopt;
  }
  for (const auto& w : opened->warnings()) std::fprintf(stderr, "anteroom-kiosk: warning: %s\n", w.c_str());
  // A damaged page opens normally; patients must not meet it halfway through a check-in.
  if (auto fit = checkStoreForService(*opened); !fit) {
    std::fprintf(stderr, "anteroom-kiosk: the store failed its integrity check: %s (%s)\n", fit.error().message.c_str(),
                 fit.error().code.c_str());
    return std::nullopt;
  }
  auto another = [&](const char* whose) -> std::optional<store::Store> {
    auto connection = store::Store::open(storeOptions, *key);
    if (!connection) {
      std::fprintf(stderr, "anteroom-kiosk: opening the %s connection: %s\n", whose, connection.error().message.c_str());
      return std::nullopt;
    }
    return std::move(*connection);
  };
  auto worker = another("store worker's");
  auto reader = worker ? another("store reader's") : std::nullopt;
  if (!reader) return std::nullopt;
  return Stores{std::move(*opened), std::move(*worker), std::move(*reader)};
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  std::string error;
  if (!parse(argc, argv, options, error)) {
    if (error.empty()) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    std::fprintf(stderr, "anteroom-kiosk: %s\n%s", error.c_str(), kUsage);
    return 2;
  }
  if (options.idleTimeout != 0 && (options.idleTimeout < 15 || options.idleTimeout > 600)) {
    std::fprintf(stderr, "anteroom-kiosk: --idle-timeout must be between 15 and 600 seconds\n");
    return 2;
  }
  auto translator = Translator::load(std::filesystem::path(options.assets) / "i18n");
  if (!translator) {
    std::fprintf(stderr, "anteroom-kiosk: %s\n", translator.error().message.c_str());
    return 1;
  }
  if (!glfwInit()) {
    std::fprintf(stderr, "anteroom-kiosk: cannot open the display (is DISPLAY set?)\n");
    return 1;
  }
  GLFWwindow* window = createWindow(options);
  if (window == nullptr) {
    std::fprintf(stderr, "anteroom-kiosk: cannot create an OpenGL 3 window\n");
    glfwTerminate();
    return 1;
  }
  Display screen{window, options, {}, false, false, {}, {}};

  // A store that will not open (wrong key, damaged file) leaves the lobby a kind screen that
  // sends patients to the desk, never a crash loop; the kiosk retries every 30 seconds. A store
  // found damaged while the kiosk runs takes no more writes, so the kiosk goes out of service
  // too; it comes back once the store is restored and 'anteroom-admin store check' passes.
  std::optional<Stores> db = openStore(options);
  bool open = true;
  while (open) {
    if (!db) {
      OutOfService outOfService(*translator, KioskConfig{}.crisisLine, nowUtc());
      open = runFrames(screen, outOfService, [&] {
        if (!outOfService.retryDue()) return false;
        outOfService.retried(nowUtc());
        db = openStore(options);
        return db.has_value();
      });
      if (!open) break;
    }
    if (options.idleTimeout > 0) {
      // The command line wins over the device setting in the store (tests and demos use it).
      (void)db->ui.setSyncValue("kiosk.idle_timeout_seconds", std::to_string(options.idleTimeout));
    }
    std::string damage;
    {
      KioskApp app(db->ui, *translator, KioskConfig{}, nowUtc(), &db->worker, &db->reader);
      open = runFrames(screen, app, [&] {
        // The worker's connection is the worker's: its damage comes back through the app.
        if (auto d = db->ui.damage()) damage = d->message;
        else if (auto w = app.workerDamage()) damage = w->message;
        return !damage.empty();
      });
    }  // the app (and its worker) is gone before the store closes
    if (open) {
      std::fprintf(stderr, "anteroom-kiosk: out of service: %s\n", damage.c_str());
      db.reset();
    }
  }

  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return 0;
}
