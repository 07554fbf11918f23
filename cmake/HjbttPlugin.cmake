# hjbtt_add_plugin(NAME SOURCES...): builds a plugin shared library with the options the
# ABI check expects: the same C++ standard as the core, hidden visibility (only the two
# manifest entry points are exported), and linking against the core library.
# The file is named libhjbtt_<NAME>.so (a leading "hjbtt_" in NAME is not doubled), because the
# host loads only files with that prefix from its plugin directories.
#
# The same file serves the plugins built inside the hjbtt tree and, installed beside
# hjbttConfig.cmake, third-party plugins built with find_package(hjbtt). Both need the target
# hjbtt::core. Two variables, set only by the hjbtt tree itself, adjust the result:
#   HJBTT_PLUGIN_OUTPUT_DIRECTORY  folder the module is written to (default: the current
#                                  binary folder, or CMAKE_LIBRARY_OUTPUT_DIRECTORY if set)
#   HJBTT_PLUGIN_INSTALL_RPATH     run path of the installed module; without it CMake keeps the
#                                  folder of the libhjbtt.so the module was linked with
function(hjbtt_add_plugin name)
  if(NOT TARGET hjbtt::core)
    message(FATAL_ERROR "hjbtt_add_plugin(${name}): the target hjbtt::core is not defined; "
                        "call find_package(hjbtt REQUIRED) before adding plugins")
  endif()

  string(REGEX REPLACE "^hjbtt_" "" short_name ${name})
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE hjbtt::core)
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME "hjbtt_${short_name}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_compile_features(${name} PRIVATE cxx_std_20)

  if(DEFINED HJBTT_PLUGIN_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${HJBTT_PLUGIN_OUTPUT_DIRECTORY})
  endif()
  if(DEFINED HJBTT_PLUGIN_INSTALL_RPATH)
    set_target_properties(${name} PROPERTIES INSTALL_RPATH "${HJBTT_PLUGIN_INSTALL_RPATH}")
  else()
    set_target_properties(${name} PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
  endif()
endfunction()
