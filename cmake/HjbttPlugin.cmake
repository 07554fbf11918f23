# hjbtt_add_plugin(NAME SOURCES...): builds a plugin shared library with the options the
# ABI check expects: the same C++ standard as the core, hidden visibility (only the two
# manifest entry points are exported), and linking against the core library.
# The file is named libhjbtt_<NAME>.so (a leading "hjbtt_" in NAME is not doubled), because the
# host loads only files with that prefix from its plugin directories.
function(hjbtt_add_plugin name)
  string(REGEX REPLACE "^hjbtt_" "" short_name ${name})
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE hjbtt::core)
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME "hjbtt_${short_name}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${HJBTT_PLUGIN_OUTPUT_DIRECTORY})
  target_compile_features(${name} PRIVATE cxx_std_20)
endfunction()
