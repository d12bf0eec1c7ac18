# The libraries libcorpc links, as imported targets under corpc's own names
# (so that a project's own pkg_check_modules(GRPC ...) cannot clash). Used by
# the build (CorpcDeps.cmake) and, installed, by corpcConfig.cmake, so that
# an installed corpc finds them again on the user's machine: the exported
# targets name these targets, never a path.
#   PkgConfig::CORPC_PROTOBUF_C   libprotobuf-c (public: generated code)
#   CorpcDep::boost_context       Boost.Context (fibers)
#   PkgConfig::CORPC_GRPC         grpc + gpr    (if CORPC_WITH_GRPC)
#   PkgConfig::CORPC_LIBCRYPTO    libcrypto     (if CORPC_WITH_GRPC)
#   PkgConfig::CORPC_ZLIB         zlib          (if CORPC_WITH_GRPC)
#   Threads::Threads
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
if(NOT TARGET PkgConfig::CORPC_PROTOBUF_C)
  pkg_check_modules(CORPC_PROTOBUF_C REQUIRED IMPORTED_TARGET libprotobuf-c)
endif()
if(NOT TARGET CorpcDep::boost_context)
  # Boost.Context has no .pc file; its CMake package would add Boost's
  # whole config machinery for one library. The static archive first
  # (Debian ships it): corpc uses only its two assembly routines, and a
  # call into libboost_context.so goes through the PLT on every coroutine
  # switch. Its objects are position-independent, so libcorpc.so can hold
  # them too (hidden there: src/CMakeLists.txt).
  find_library(CORPC_BOOST_CONTEXT_LIB
    NAMES ${CMAKE_STATIC_LIBRARY_PREFIX}boost_context${CMAKE_STATIC_LIBRARY_SUFFIX}
          boost_context
    REQUIRED)
  add_library(CorpcDep::boost_context UNKNOWN IMPORTED)
  set_target_properties(CorpcDep::boost_context PROPERTIES
    IMPORTED_LOCATION ${CORPC_BOOST_CONTEXT_LIB})
endif()
if(CORPC_WITH_GRPC AND NOT TARGET PkgConfig::CORPC_GRPC)
  pkg_check_modules(CORPC_GRPC REQUIRED IMPORTED_TARGET grpc gpr)
  # TLS PEM checks (src/transport/grpc/grpc_tls.c); libgrpc-dev depends on
  # libssl-dev, so this adds no package.
  pkg_check_modules(CORPC_LIBCRYPTO REQUIRED IMPORTED_TARGET libcrypto)
  # Bounded inflate of compressed messages (grpc_compress.c); libgrpc-dev
  # depends on zlib1g-dev.
  pkg_check_modules(CORPC_ZLIB REQUIRED IMPORTED_TARGET zlib)
endif()
