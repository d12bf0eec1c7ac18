#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs corpc from build tree BUILD into temporary prefixes and builds
# tests/install/consumer (a .proto with keyword-named methods importing
# well-known types) four ways: CMake shared, CMake static, pkg-config shared,
# pkg-config --static; each binary makes calls on inproc:// and tcp://. Then
# the README's CMake snippet, verbatim, on examples/greeter.
# Usage: install_test.sh SOURCE_DIR BUILD_DIR WORK_DIR
set -eu
src=$1
build=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
cc=${CC:-cc}
cxx=${CXX:-c++}

step() { echo "== $*"; }

# Two prefixes: a full one, and one with the static libraries only, where
# `-lcorpc` can only mean libcorpc.a.
step install
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake --install "$build" --prefix "$work/static" >/dev/null
rm -f "$work"/static/lib*/libcorpc*.so* "$work"/static/lib/*/libcorpc*.so*
prefix=$work/prefix
for f in "$prefix"/lib*/cmake/corpc/*.cmake "$prefix"/lib*/pkgconfig/corpc.pc; do
	# (WORK_DIR itself may be inside the build tree.)
	if sed "s|$work||g" "$f" | grep -q "$build\|$src"; then
		echo "FAIL: $f names the build or source tree"
		exit 1
	fi
done

run() { # run BINARY: a call on each transport
	"$@" inproc://consumer tcp://127.0.0.1:0 | tee "$work/out"
	grep -q "ok tcp://" "$work/out"
}
# A binary linked with the static library does not load libcorpc.so.
no_shared_corpc() {
	if readelf -d "$1" | grep -q "libcorpc"; then
		echo "FAIL: $1 needs a shared libcorpc"
		exit 1
	fi
}

consumer=$src/tests/install/consumer
for mode in shared static; do
	step "cmake $mode"
	static=OFF
	[ "$mode" = static ] && static=ON
	cmake -S "$consumer" -B "$work/cmake-$mode" -DCMAKE_PREFIX_PATH="$prefix" \
		-DCONSUMER_STATIC=$static >/dev/null
	cmake --build "$work/cmake-$mode" >/dev/null
	run "$work/cmake-$mode/consumer"
done
no_shared_corpc "$work/cmake-static/consumer"

# By hand: protoc with both plugins, then the compiler with pkg-config.
gen() { # gen PREFIX OUT
	mkdir -p "$2"
	protoc --plugin=protoc-gen-corpc="$1/bin/protoc-gen-corpc" \
		--corpc_opt=protoc_gen_c="$(command -v protoc-gen-c)" \
		--corpc_out="$2" -I"$consumer" "$consumer/kw.proto"
}
for mode in shared static; do
	step "pkg-config $mode"
	p=$prefix
	flag=""
	if [ "$mode" = static ]; then
		p=$work/static
		flag=--static
	fi
	out=$work/pc-$mode
	export PKG_CONFIG_PATH="$(echo "$p"/lib*/pkgconfig "$p"/lib/*/pkgconfig | tr ' ' ':')"
	gen "$p" "$out"
	cflags=$(pkg-config --cflags corpc)
	# shellcheck disable=SC2086
	{
		$cc -std=c11 -Wall -Wextra -Wpedantic -Werror $cflags -I"$out" -c \
			"$out/kw.pb-c.c" -o "$out/kw.pb-c.o"
		$cc -std=c11 -Wall -Wextra -Wpedantic -Werror $cflags -I"$out" -c \
			"$out/kw.corpc.c" -o "$out/kw.corpc.o"
		$cc -std=c11 -Wall -Wextra -Wpedantic -Werror $cflags -I"$out" -c \
			"$consumer/main.c" -o "$out/main.o"
		$cxx -Wall -Wextra -Wpedantic -Werror $cflags -I"$out" -c \
			"$consumer/cxx.cc" -o "$out/cxx.o"
		$cxx -o "$out/consumer" "$out"/*.o $(pkg-config $flag --libs corpc)
	}
	[ "$mode" = static ] && pkg-config --static --libs corpc
	LD_LIBRARY_PATH="$(echo "$p"/lib*/ "$p"/lib/*/ | tr ' ' ':')" run "$out/consumer"
done
no_shared_corpc "$work/pc-static/consumer"

# The README's CMake snippet, as the whole CMakeLists.txt of a new project.
step "README snippet"
mkdir -p "$work/readme"
awk '/^### Using corpc from CMake/ { s = 1 } s && /^```$/ { exit }
	s == 2 { print } s && /^```cmake$/ { s = 2 }' "$src/README.md" \
	>"$work/readme/CMakeLists.txt"
grep -q find_package "$work/readme/CMakeLists.txt"
cp "$src/examples/greeter/greet.proto" "$src/examples/greeter/main.c" \
	"$work/readme/"
cmake -S "$work/readme" -B "$work/readme/build" \
	-DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/readme/build" >/dev/null
"$work/readme/build/greeter" tcp://127.0.0.1:0 | grep "status OK"
echo "install test: all passed"
