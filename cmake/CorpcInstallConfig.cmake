# What `cmake --install` puts next to the libraries for users: the CMake
# package (corpcConfig.cmake, its version file, the dependency finder and
# corpc_generate_library) and corpc.pc. Included from src/CMakeLists.txt
# after the corpcTargets export is declared.
include(CMakePackageConfigHelpers)
set(_dir ${CMAKE_INSTALL_LIBDIR}/cmake/corpc)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/corpcConfig.cmake.in
  ${PROJECT_BINARY_DIR}/corpcConfig.cmake INSTALL_DESTINATION ${_dir})
# 0.x: a minor release may break the API, so only the same 0.y matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/corpcConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/corpcConfig.cmake
              ${PROJECT_BINARY_DIR}/corpcConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/CorpcFindDeps.cmake
              ${PROJECT_SOURCE_DIR}/cmake/CorpcGenerate.cmake
        DESTINATION ${_dir})

# corpc.pc: Requires.private and Libs.private are what `pkg-config --static`
# adds for libcorpc.a (the shared library carries its own dependencies).
set(CORPC_PC_REQUIRES_PRIVATE "")
if(CORPC_TRANSPORT_GRPC)
  set(CORPC_PC_REQUIRES_PRIVATE "grpc gpr libcrypto zlib")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(CORPC_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(CORPC_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(CORPC_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(CORPC_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# The prefix is the one given at install time (cmake --install --prefix),
# not at configure time: the file is configured twice, the second time by
# the install script, where @CMAKE_INSTALL_PREFIX@ is the real one.
set(CORPC_PC_PREFIX "@CMAKE_INSTALL_PREFIX@")
configure_file(${PROJECT_SOURCE_DIR}/cmake/corpc.pc.in
               ${PROJECT_BINARY_DIR}/corpc.pc.in @ONLY)
install(CODE "configure_file(\"${PROJECT_BINARY_DIR}/corpc.pc.in\"
  \"${PROJECT_BINARY_DIR}/pc/corpc.pc\" @ONLY)")
install(FILES ${PROJECT_BINARY_DIR}/pc/corpc.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})
