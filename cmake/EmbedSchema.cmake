# Embeds schema/<store>/NNN_*.sql into a generated C++ source as an ordered array of migrations.
function(evalkeep_embed_schema out_var store)
  file(GLOB files CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/schema/${store}/[0-9][0-9][0-9]_*.sql)
  list(SORT files)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/schema_${store}.cpp)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DSTORE=${store} -DOUT=${out} "-DFILES=${files}"
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_schema_run.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/embed_schema_run.cmake
    COMMENT "Embedding ${store} schema"
    VERBATIM)
  set(${out_var} ${out} PARENT_SCOPE)
endfunction()
