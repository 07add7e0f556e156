# Third-party packages, all from Debian 12 (scripts/deps installs them).
find_package(PkgConfig REQUIRED)
# SQLCipher only: never plain libsqlite3 in the same binary, or PRAGMA key is silently ignored.
pkg_check_modules(SQLCIPHER REQUIRED IMPORTED_TARGET sqlcipher)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
find_package(Threads REQUIRED)
# The kiosk: Dear ImGui (with its GLFW + OpenGL 3 backends), GLFW 3.3 on X11, OpenGL.
pkg_check_modules(IMGUI REQUIRED IMPORTED_TARGET imgui)
pkg_check_modules(GLFW REQUIRED IMPORTED_TARGET glfw3)
set(OpenGL_GL_PREFERENCE GLVND)
find_package(OpenGL REQUIRED)
if(ANTEROOM_BUILD_TESTS)
  find_package(doctest REQUIRED)
endif()
# The central PostgreSQL schema's tools (anteroom-admin central, its tests and benchmark).
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
# Sync on the network: the hub (Boost.Beast/Asio headers, OpenSSL), the daemon (libcurl), gzip
# (zlib), configuration files (toml++). Boost is header-only here (Beast, Asio).
find_package(Boost 1.74 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
