#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets (clang, ASan+UBSan, CORPC_FUZZ=ON) in
# $BUILD/fuzz and runs each for FUZZ_SECONDS seconds (default 10), all at
# once, from its seed corpus (generated from the tests at build time) and
# the corpus kept from earlier runs. First it replays fuzz/regressions/<t>/.
# Fails if any input crashes, leaks, times out or breaks an invariant; the
# input is then in $BUILD/fuzz/fuzz/artifacts/<t>/: add it to
# fuzz/regressions/<t>/.
#
#   FUZZ_SECONDS=600 make fuzz          longer runs
#   FUZZ_TARGETS="fuzz_decode" make fuzz  some targets only
#   FUZZ_CMAKE_ARGS=-DCORPC_TRANSPORT_GRPC=OFF  extra configure options
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
JOBS=${JOBS:-$(nproc)}
SECONDS_EACH=${FUZZ_SECONDS:-10}
TARGETS=${FUZZ_TARGETS:-fuzz_address fuzz_metadata fuzz_decode fuzz_depth fuzz_codegen}
DIR=$BUILD/fuzz

mkdir -p "$DIR"
# Debug keeps the library's asserts; -O1 for speed.
# shellcheck disable=SC2086
cmake -S . -B "$DIR" -DCMAKE_BUILD_TYPE=Debug \
	-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	-DCMAKE_C_FLAGS=-O1 -DCMAKE_CXX_FLAGS=-O1 \
	-DCORPC_FUZZ=ON -DCORPC_SANITIZER=address,undefined,fuzzer-no-link \
	-DCORPC_TESTS=OFF -DCORPC_BENCH=OFF -DCORPC_EXAMPLES=OFF \
	${FUZZ_CMAKE_ARGS:-} >"$DIR.configure.log" 2>&1 ||
	{ cat "$DIR.configure.log"; exit 1; }
# shellcheck disable=SC2086
cmake --build "$DIR" -j "$JOBS" --target $TARGETS

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
FUZZ=$DIR/fuzz
failed=""

# Regressions: every input that once failed, run once.
for t in $TARGETS; do
	reg=fuzz/regressions/$t
	[ -d "$reg" ] || continue
	files=$(find "$reg" -type f ! -name '.*' | sort)
	[ -n "$files" ] || continue
	# shellcheck disable=SC2086
	if "$FUZZ/$t" $files >"$FUZZ/$t.regressions.log" 2>&1; then
		echo "fuzz: $t: $(echo "$files" | wc -l) regression inputs pass"
	else
		tail -40 "$FUZZ/$t.regressions.log"
		echo "fuzz: $t: a regression input fails (log: $FUZZ/$t.regressions.log)"
		failed="$failed $t"
	fi
done

# Fuzzing: all targets at once, each for SECONDS_EACH.
echo "fuzz: running $TARGETS for ${SECONDS_EACH}s each"
pids=""
for t in $TARGETS; do
	mkdir -p "$FUZZ/corpus/$t" "$FUZZ/artifacts/$t"
	dict=""
	if [ -f "fuzz/$t.dict" ]; then
		dict=-dict=fuzz/$t.dict
	fi
	# shellcheck disable=SC2086
	"$FUZZ/$t" -max_total_time="$SECONDS_EACH" -timeout=10 \
		-rss_limit_mb=4096 -print_final_stats=1 \
		-artifact_prefix="$FUZZ/artifacts/$t/" $dict \
		"$FUZZ/corpus/$t" "$FUZZ/seeds/$t" >"$FUZZ/$t.log" 2>&1 &
	pids="$pids $t:$!"
done
for tp in $pids; do
	t=${tp%%:*}
	if wait "${tp#*:}"; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$FUZZ/$t.log")
		cov=$(grep -o 'cov: [0-9]*' "$FUZZ/$t.log" | tail -1)
		echo "fuzz: $t: ok, $runs inputs in ${SECONDS_EACH}s, $cov," \
			"corpus $(find "$FUZZ/corpus/$t" -type f | wc -l) files"
	else
		tail -60 "$FUZZ/$t.log"
		echo "fuzz: $t: FAILED (log: $FUZZ/$t.log); the input is in" \
			"$FUZZ/artifacts/$t/: add it to fuzz/regressions/$t/"
		failed="$failed $t"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: failures:$failed"
	exit 1
fi
echo "fuzz: no crash"
