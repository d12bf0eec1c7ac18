# fanout_bench (bench/fanout_bench.c): a fan-out over 4 in-process coroutine
# backends vs 4 tcp backends, directly and behind a proxy. Include from
# bench/CMakeLists.txt after bench_liststrings exists:
#   include(${CMAKE_CURRENT_SOURCE_DIR}/fanout.cmake)
add_executable(fanout_bench ${CMAKE_CURRENT_LIST_DIR}/fanout_bench.c)
target_link_libraries(fanout_bench PRIVATE bench_liststrings)

if(CORPC_TESTS)
  # Smoke run: every op checks the merged string count and the status.
  add_test(NAME bench_fanout_smoke COMMAND fanout_bench --count 1)
  set_tests_properties(bench_fanout_smoke PROPERTIES TIMEOUT 120
    LABELS "bench;fanout" FAIL_REGULAR_EXPRESSION "FAILED|usage:")
endif()
