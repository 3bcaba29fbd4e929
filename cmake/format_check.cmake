# Fails when a tracked C++ file is not formatted as .clang-format says.
# Invoked by the format-check target: cmake -DCLANG_FORMAT=... -DSOURCE_DIR=... -P this file.
execute_process(
  COMMAND git ls-files -- "*.cpp" "*.hpp" "*.h" "*.cc"
  WORKING_DIRECTORY ${SOURCE_DIR}
  OUTPUT_VARIABLE files OUTPUT_STRIP_TRAILING_WHITESPACE
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "format-check: git ls-files failed in ${SOURCE_DIR}")
endif()
execute_process(COMMAND ${CLANG_FORMAT} --version OUTPUT_VARIABLE version
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT version MATCHES "version 14\\.")
  message(WARNING "format-check: .clang-format is checked with clang-format 14; found: ${version}")
endif()
string(REPLACE "\n" ";" files "${files}")
execute_process(COMMAND ${CLANG_FORMAT} --dry-run -Werror ${files}
                WORKING_DIRECTORY ${SOURCE_DIR} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "format-check: files above are not clang-formatted (run clang-format -i on them)")
endif()
list(LENGTH files count)
message(STATUS "format-check: ${count} files formatted")
