// The font atlas on the GPU, one byte a pixel where the GL can read it that way.
#include <GLFW/glfw3.h>
#include <GL/glext.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <cstdint>

#include "anteroom/kiosk/ui.hpp"

namespace anteroom::kiosk::ui {

namespace {

GLuint g_fontTexture = 0;  // ours, when the atlas went up as GL_R8

// Texture swizzle (core in 3.3, else GL_ARB_texture_swizzle) lets a one-channel texture be
// sampled as (1, 1, 1, coverage): what the backend's shader expects of its RGBA atlas.
bool hasTextureSwizzle() {
  GLFWwindow* context = glfwGetCurrentContext();
  if (context == nullptr) return false;
  const int major = glfwGetWindowAttrib(context, GLFW_CONTEXT_VERSION_MAJOR);
  const int minor = glfwGetWindowAttrib(context, GLFW_CONTEXT_VERSION_MINOR);
  return major > 3 || (major == 3 && minor >= 3) || glfwExtensionSupported("GL_ARB_texture_swizzle") == GLFW_TRUE;
}

void deleteOwnTexture() {
  if (g_fontTexture == 0) return;
  glDeleteTextures(1, &g_fontTexture);
  g_fontTexture = 0;
}

}  // namespace

void uploadFontTexture() {
  ImGui_ImplOpenGL3_DestroyFontsTexture();
  deleteOwnTexture();
  ImFontAtlas& atlas = *ImGui::GetIO().Fonts;
  if (!hasTextureSwizzle()) {
    ImGui_ImplOpenGL3_CreateFontsTexture();
    atlas.ClearTexData();
    return;
  }
  // A quarter of the RGBA texture (at 200% text the atlas is 2048 pixels wide), and the RGBA
  // copy the backend would build on the CPU is never made.
  unsigned char* pixels = nullptr;
  int width = 0;
  int height = 0;
  atlas.GetTexDataAsAlpha8(&pixels, &width, &height);
  GLint bound = 0;
  glGetIntegerv(GL_TEXTURE_BINDING_2D, &bound);
  glGenTextures(1, &g_fontTexture);
  glBindTexture(GL_TEXTURE_2D, g_fontTexture);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
  const GLint swizzle[] = {GL_ONE, GL_ONE, GL_ONE, GL_RED};
  glTexParameteriv(GL_TEXTURE_2D, GL_TEXTURE_SWIZZLE_RGBA, swizzle);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_R8, width, height, 0, GL_RED, GL_UNSIGNED_BYTE, pixels);
  glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(bound));
  atlas.SetTexID(reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(g_fontTexture)));
  atlas.ClearTexData();
}

}  // namespace anteroom::kiosk::ui
