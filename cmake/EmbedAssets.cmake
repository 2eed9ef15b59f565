# Embeds text files (a page's script and style) into a generated C++ source: for each file
# NAME.EXT a function `std::string_view evalkeep::<NAMESPACE>::NAME_EXT()` returning its text,
# declared by HEADER. A file's final newline is not part of its text.
function(evalkeep_embed_assets out_var namespace header)
  set(files ${ARGN})
  string(REPLACE "::" "_" stem ${namespace})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/assets_${stem}.cpp)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DNAMESPACE=${namespace} -DHEADER=${header} -DOUT=${out}
            "-DFILES=${files}" -P ${PROJECT_SOURCE_DIR}/cmake/embed_assets_run.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/embed_assets_run.cmake
    COMMENT "Embedding ${namespace} assets"
    VERBATIM)
  set(${out_var} ${out} PARENT_SCOPE)
endfunction()
