# Fails if DOC differs from what `TOOL --list-supported-ops` prints.
execute_process(COMMAND ${TOOL} --list-supported-ops OUTPUT_VARIABLE generated
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TOOL} --list-supported-ops failed (${rc})")
endif()
file(READ ${DOC} current)
if(NOT generated STREQUAL current)
  message(FATAL_ERROR "${DOC} is stale: regenerate with\n  tessera-compile --list-supported-ops > docs/supported-ops.md")
endif()
