# Runs protoc-gen-corpc as protoc would, for one check (ctest, see
# CMakeLists.txt). -DMODE=garbage|golden|clash -DPLUGIN= -DPROTOC= -DSRC=
# -DWORK=. With -DUPDATE=1, golden rewrites the golden files instead.
file(REMOVE_RECURSE ${WORK}/${MODE})
file(MAKE_DIRECTORY ${WORK}/${MODE})

if(MODE STREQUAL "garbage")
  # Not a CodeGeneratorRequest: exit status 1 and a message, no crash.
  file(WRITE ${WORK}/garbage.bin "this is not a protobuf message\n")
  execute_process(COMMAND ${PLUGIN}
    INPUT_FILE ${WORK}/garbage.bin
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc STREQUAL "1" OR NOT err MATCHES "protoc-gen-corpc: .*not a CodeGeneratorRequest")
    message(FATAL_ERROR "garbage: want exit 1 and a message, got "
      "rc=${rc} stderr=${err}")
  endif()
  # A truncated message (field 1, length 255, no data) likewise.
  string(ASCII 10 255 1 trunc)
  file(WRITE ${WORK}/trunc.bin "${trunc}")
  execute_process(COMMAND ${PLUGIN}
    INPUT_FILE ${WORK}/trunc.bin RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc STREQUAL "1")
    message(FATAL_ERROR "truncated: want exit 1, got rc=${rc} ${err}")
  endif()
  # An empty request is valid: nothing to generate.
  file(WRITE ${WORK}/empty.bin "")
  execute_process(COMMAND ${PLUGIN}
    INPUT_FILE ${WORK}/empty.bin RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "empty: want exit 0, got rc=${rc} ${err}")
  endif()
  # Arguments: usage, exit 2.
  execute_process(COMMAND ${PLUGIN} --bogus RESULT_VARIABLE rc
    OUTPUT_QUIET ERROR_QUIET)
  if(NOT rc STREQUAL "2")
    message(FATAL_ERROR "--bogus: want exit 2, got rc=${rc}")
  endif()

elseif(MODE STREQUAL "golden")
  execute_process(COMMAND ${PROTOC} --plugin=protoc-gen-corpc=${PLUGIN}
    --corpc_out=${WORK}/golden -I${SRC}/protos ${SRC}/protos/nopkg.proto
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "protoc failed (${rc}): ${err}")
  endif()
  foreach(f nopkg.corpc.h nopkg.corpc.c)
    if(UPDATE)
      file(COPY ${WORK}/golden/${f} DESTINATION ${SRC}/golden)
      continue()
    endif()
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files
      ${SRC}/golden/${f} ${WORK}/golden/${f} RESULT_VARIABLE diff)
    if(NOT diff EQUAL 0)
      message(FATAL_ERROR "${f} differs from ${SRC}/golden/${f}; see "
        "diff -u ${SRC}/golden/${f} ${WORK}/golden/${f} (rerun this script "
        "with -DUPDATE=1 to accept)")
    endif()
  endforeach()

elseif(MODE STREQUAL "clash")
  # protoc prints the response's error and fails.
  execute_process(COMMAND ${PROTOC} --plugin=protoc-gen-corpc=${PLUGIN}
    --corpc_out=${WORK}/clash -I${SRC}/bad ${SRC}/bad/clash.proto
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(rc STREQUAL "0" OR NOT err MATCHES "clash__svc__get_call")
    message(FATAL_ERROR "clash: want a protoc error naming "
      "clash__svc__get_call, got rc=${rc}: ${err}")
  endif()

else()
  message(FATAL_ERROR "unknown MODE ${MODE}")
endif()
