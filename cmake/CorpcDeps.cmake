# Third-party dependencies, all from Debian packages (see scripts/deps.sh).
set(CORPC_WITH_GRPC ${CORPC_TRANSPORT_GRPC})
include(CorpcFindDeps)
find_program(PROTOC_C protoc-c REQUIRED)
find_program(PROTOC protoc REQUIRED)
# protobuf's own .proto files (libprotobuf-dev, pulled in by libprotoc-dev):
# plugin.proto for codegen/, the well-known types for src/wkt/.
find_path(CORPC_PROTOBUF_PROTO_DIR google/protobuf/compiler/plugin.proto
  PATHS /usr/include /usr/local/include
  DOC "Directory holding google/protobuf/compiler/plugin.proto")
if(NOT CORPC_PROTOBUF_PROTO_DIR)
  message(FATAL_ERROR "google/protobuf/compiler/plugin.proto not found "
    "(install libprotoc-dev) or set CORPC_PROTOBUF_PROTO_DIR")
endif()
if(CORPC_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()
