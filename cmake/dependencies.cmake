# Third-party packages, all from Debian 12 (scripts/deps installs them).
find_package(PkgConfig REQUIRED)
# SQLCipher only: never plain libsqlite3 in the same binary, or PRAGMA key is silently ignored.
pkg_check_modules(SQLCIPHER REQUIRED IMPORTED_TARGET sqlcipher)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
find_package(Threads REQUIRED)
if(ANTEROOM_BUILD_TESTS)
  find_package(doctest REQUIRED)
endif()
