# anteroom_sanitizers: ASan + UBSan when ANTEROOM_SANITIZE is on (scripts/test builds both ways).
add_library(anteroom_sanitizers INTERFACE)
if(ANTEROOM_SANITIZE)
  target_compile_options(anteroom_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(anteroom_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
