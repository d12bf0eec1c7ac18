# Third-party dependencies, all from Debian packages (see scripts/deps.sh).
find_package(PkgConfig REQUIRED)
pkg_check_modules(PROTOBUF_C REQUIRED IMPORTED_TARGET libprotobuf-c)
find_program(PROTOC_C protoc-c REQUIRED)
find_program(PROTOC protoc REQUIRED)
# Fibers (src/runtime) for every handler and task, whatever the transports.
find_library(BOOST_CONTEXT_LIB boost_context REQUIRED)
if(CORPC_TRANSPORT_GRPC)
  pkg_check_modules(GRPC REQUIRED IMPORTED_TARGET grpc gpr)
  # TLS PEM checks (src/transport/grpc/grpc_tls.c); libgrpc-dev depends on
  # libssl-dev, so this adds no package.
  pkg_check_modules(LIBCRYPTO REQUIRED IMPORTED_TARGET libcrypto)
endif()
if(CORPC_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()
find_package(Threads REQUIRED)
