# Runs at every build (not only at configure time) so `cdrift --version` names the
# commit the binary was really built from. configure_file only rewrites the output
# when it changes, so an unchanged commit rebuilds nothing.
execute_process(COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${SOURCE_DIR}
  OUTPUT_VARIABLE CDRIFT_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT CDRIFT_GIT_COMMIT)
  set(CDRIFT_GIT_COMMIT "unknown")
endif()
configure_file(${SOURCE_DIR}/src/util/build_info.cpp.in ${OUTPUT} @ONLY)
