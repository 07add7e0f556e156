# anteroom_warnings: the project's warning set, linked PRIVATE by every target.
# -Wnull-dereference is left out: GCC 12 at -O2 reports false positives inside libstdc++ streams.
add_library(anteroom_warnings INTERFACE)
target_compile_options(anteroom_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  -Wmisleading-indentation -Wduplicated-cond -Wlogical-op)
if(ANTEROOM_WERROR)
  target_compile_options(anteroom_warnings INTERFACE -Werror)
endif()
