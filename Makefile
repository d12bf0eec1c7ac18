# Entry points for a fresh machine:
#   make bench   install deps, Release build, print the benchmark table
#   make test    install deps, check formatting, build and run every test,
#                then again under ASan+UBSan, the in-process ones under
#                TSan, short fuzz runs, and the builds with an in-process
#                transport switched off
#   make fuzz    libFuzzer targets (clang), FUZZ_SECONDS each (default 10)
#   make format-check  clang-format --dry-run on every C/C++ file
#   make build-options the library and examples with each in-process
#                transport switched off (tcp:// off is test-tsan's build),
#                and the Release build of the benchmark
JOBS ?= $(shell nproc)
BUILD ?= build

.PHONY: all deps bench test test-plain test-asan test-tsan fuzz format-check \
	build-options clean

all: deps
	cmake -S . -B $(BUILD)/debug -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(BUILD)/debug -j $(JOBS)

deps:
	@sh scripts/deps.sh

bench: deps
	cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release -DCORPC_TESTS=OFF
	cmake --build $(BUILD)/release -j $(JOBS) --target corpc_bench
	$(BUILD)/release/bench/corpc_bench $(BENCH_ARGS)

test: deps format-check test-plain test-asan test-tsan fuzz build-options

test-plain:
	cmake -S . -B $(BUILD)/debug -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(BUILD)/debug -j $(JOBS)
	cd $(BUILD)/debug && ctest --output-on-failure -j $(JOBS)

test-asan:
	cmake -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug \
		-DCORPC_SANITIZER=address,undefined -DCORPC_BENCH=OFF
	cmake --build $(BUILD)/asan -j $(JOBS)
	cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

# ThreadSanitizer on the runtime and the in-process transports (Debian's
# gRPC is not built with TSan, so the network transport is left out).
test-tsan:
	cmake -S . -B $(BUILD)/tsan -DCMAKE_BUILD_TYPE=Debug \
		-DCORPC_SANITIZER=thread -DCORPC_TRANSPORT_GRPC=OFF \
		-DCORPC_BENCH=OFF -DCORPC_EXAMPLES=OFF
	cmake --build $(BUILD)/tsan -j $(JOBS)
	cd $(BUILD)/tsan && TSAN_OPTIONS=halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

fuzz: deps
	BUILD=$(BUILD) JOBS=$(JOBS) sh scripts/fuzz.sh

# Not the generator's golden output, which is compared byte for byte.
format-check:
	clang-format --dry-run --Werror \
		$$(git ls-files '*.c' '*.h' '*.cc' | grep -v '^codegen/tests/golden/')

# Build only: the tests assume the coroutine and thread modes of inproc://.
build-options:
	for t in CORO THREAD; do \
		cmake -S . -B $(BUILD)/no-$$t -DCMAKE_BUILD_TYPE=Debug \
			-DCORPC_TRANSPORT_$$t=OFF -DCORPC_TESTS=OFF -DCORPC_BENCH=OFF \
			>/dev/null && \
		cmake --build $(BUILD)/no-$$t -j $(JOBS) >/dev/null || exit 1; \
	done
	# The benchmark's own build (Release: -O2 finds warnings -O0 does not).
	cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release \
		-DCORPC_TESTS=OFF >/dev/null
	cmake --build $(BUILD)/release -j $(JOBS) --target corpc_bench >/dev/null

clean:
	rm -rf $(BUILD)
