# corpc_generate_library(NAME [STATIC] PROTOS <files...>
#                        [IMPORT_DIRS <dirs...>])
#
# Creates the static library NAME from generated code: for each proto file,
# protobuf-c's X.pb-c.c and protoc-gen-corpc's X.corpc.c, generated at build
# time into ${CMAKE_CURRENT_BINARY_DIR}/NAME_gen/ (a PUBLIC include
# directory). X keeps the proto's name relative to its import directory:
# with IMPORT_DIRS /p, /p/sub/foo.proto gives sub/foo.pb-c.h and
# sub/foo.corpc.h, included as "sub/foo.corpc.h". A proto under none of the
# IMPORT_DIRS is imported from its own directory.
#
# NAME links PUBLIC corpc::corpc and corpc::corpc_wkt (the well-known types,
# google/protobuf/*.proto, which protoc finds by itself), or with STATIC
# corpc::corpc_static and corpc::corpc_wkt_static. NAME itself is always a
# static archive of position-independent code.
#
# In the corpc tree the generator is the target protoc-gen-corpc; with an
# installed corpc (find_package(corpc)) it is found on PATH or next to the
# package, or set CORPC_PROTOC_GEN_CORPC.
set(_CORPC_GENERATE_DIR ${CMAKE_CURRENT_LIST_DIR})

function(corpc_generate_library name)
  cmake_parse_arguments(G "STATIC" "" "PROTOS;IMPORT_DIRS" ${ARGN})
  if(G_UNPARSED_ARGUMENTS OR NOT G_PROTOS)
    message(FATAL_ERROR "usage: corpc_generate_library(NAME [STATIC] "
      "PROTOS <files...> [IMPORT_DIRS <dirs...>]); got: ${ARGN}")
  endif()

  # Tools: protoc, protobuf-c's plugin, ours.
  find_program(PROTOC protoc REQUIRED)
  find_program(PROTOC_GEN_C protoc-gen-c REQUIRED)
  if(TARGET protoc-gen-corpc)
    set(plugin $<TARGET_FILE:protoc-gen-corpc>)
    set(plugin_dep protoc-gen-corpc)
  else()
    # Installed next to this file in LIBDIR/cmake/corpc (LIBDIR may have a
    # multiarch part).
    find_program(CORPC_PROTOC_GEN_CORPC protoc-gen-corpc
      HINTS ${_CORPC_GENERATE_DIR}/../../../bin
            ${_CORPC_GENERATE_DIR}/../../../../bin)
    if(NOT CORPC_PROTOC_GEN_CORPC)
      message(FATAL_ERROR "corpc_generate_library: protoc-gen-corpc not "
        "found; build corpc with CORPC_CODEGEN=ON or set "
        "CORPC_PROTOC_GEN_CORPC")
    endif()
    set(plugin ${CORPC_PROTOC_GEN_CORPC})
    set(plugin_dep ${CORPC_PROTOC_GEN_CORPC})
  endif()

  set(out ${CMAKE_CURRENT_BINARY_DIR}/${name}_gen)
  set(dirs "")
  foreach(dir IN LISTS G_IMPORT_DIRS)
    get_filename_component(dir "${dir}" ABSOLUTE)
    list(APPEND dirs "${dir}")
  endforeach()
  set(protos "")
  foreach(proto IN LISTS G_PROTOS)
    get_filename_component(proto "${proto}" ABSOLUTE)
    list(APPEND protos "${proto}")
  endforeach()

  set(srcs "")
  foreach(proto IN LISTS protos)
    # The first import directory holding the proto gives its name, as in
    # protoc; else the proto's own directory, searched first.
    set(root "")
    foreach(dir IN LISTS dirs)
      file(RELATIVE_PATH rel "${dir}" "${proto}")
      if(NOT rel MATCHES "^\\.\\./" AND NOT IS_ABSOLUTE "${rel}")
        set(root "${dir}")
        break()
      endif()
    endforeach()
    set(iflags "")
    if(NOT root)
      get_filename_component(root "${proto}" DIRECTORY)
      list(APPEND iflags "-I${root}")
    endif()
    foreach(dir IN LISTS dirs)
      list(APPEND iflags "-I${dir}")
    endforeach()
    file(RELATIVE_PATH rel "${root}" "${proto}")
    string(REGEX REPLACE "\\.proto$" "" base "${rel}")

    set(gen ${out}/${base}.pb-c.c ${out}/${base}.pb-c.h
            ${out}/${base}.corpc.c ${out}/${base}.corpc.h)
    add_custom_command(
      OUTPUT ${gen}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out}
      COMMAND ${PROTOC} --plugin=protoc-gen-corpc=${plugin}
              --corpc_opt=protoc_gen_c=${PROTOC_GEN_C}
              --corpc_out=${out} ${iflags} ${proto}
      # All protos of the library: an import may be among them.
      DEPENDS ${protos} ${plugin_dep}
      COMMENT "corpc: generating ${name}_gen/${base}.{pb-c,corpc}.{h,c}"
      VERBATIM)
    list(APPEND srcs ${out}/${base}.pb-c.c ${out}/${base}.corpc.c)
  endforeach()

  add_library(${name} STATIC ${srcs})
  # Handlers run on coroutine stacks with a guard region below: with this,
  # a frame larger than the guard faults in it instead of stepping over it
  # into another call's stack. PUBLIC: the user's handlers, which link this
  # library, get it too.
  target_compile_options(${name} PUBLIC -fstack-clash-protection)
  target_include_directories(${name} PUBLIC ${out})
  set(link corpc::corpc corpc::corpc_wkt)
  if(G_STATIC)
    set(link corpc::corpc_static corpc::corpc_wkt_static)
  endif()
  foreach(t IN LISTS link)
    if(NOT TARGET ${t})
      message(FATAL_ERROR "corpc_generate_library: no target ${t} "
        "(call find_package(corpc) first)")
    endif()
  endforeach()
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_link_libraries(${name} PUBLIC ${link})
endfunction()
