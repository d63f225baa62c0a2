# Runs a command and checks what it did; used by the tessera-run CTests.
#   cmake -DCMD=prog|arg|...        command, '|'-separated
#         -DEXPECT_FAIL=TRUE|FALSE  expect a non-zero exit (not a crash)
#         -DMATCH=text|text         substrings the output must contain
#         -DCOMPARE=got=want|...    files that must be byte-identical
#         -P run_check.cmake
string(REPLACE "|" ";" cmd "${CMD}")
execute_process(COMMAND ${cmd} RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
message("$ ${cmd}\n${all}exit: ${rc}")

if(NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "the command did not exit normally: ${rc}")
endif()
if(EXPECT_FAIL AND rc EQUAL 0)
  message(FATAL_ERROR "expected a non-zero exit status")
elseif(NOT EXPECT_FAIL AND NOT rc EQUAL 0)
  message(FATAL_ERROR "expected exit status 0, got ${rc}")
endif()

if(MATCH)
  string(REPLACE "|" ";" matches "${MATCH}")
  foreach(m IN LISTS matches)
    string(FIND "${all}" "${m}" pos)
    if(pos EQUAL -1)
      message(FATAL_ERROR "output lacks: ${m}")
    endif()
  endforeach()
endif()

if(COMPARE)
  string(REPLACE "|" ";" pairs "${COMPARE}")
  foreach(pair IN LISTS pairs)
    string(REPLACE "=" ";" files "${pair}")
    list(GET files 0 got)
    list(GET files 1 want)
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${got}" "${want}"
                    RESULT_VARIABLE same)
    if(NOT same EQUAL 0)
      message(FATAL_ERROR "'${got}' differs from '${want}'")
    endif()
  endforeach()
endif()
