#!/bin/sh
# SPDX-License-Identifier: MIT
# The fan-out example with backends in separate processes: two
# liststrings_server processes on tcp (ports picked by the kernel), one
# ListStrings server embedded in the proxy's own process (inproc://), and
# one call through the proxy.
#   demo.sh BUILD_DIR [RESP_SIZE]
set -eu
bin=$1/examples
size=${2:-10}
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
for i in 1 2; do
	"$bin/liststrings/liststrings_server" tcp://127.0.0.1:0 >"$tmp/s$i" &
	pids="$pids $!"
done
for i in 1 2; do
	for _ in $(seq 50); do
		grep -q listening "$tmp/s$i" && break
		sleep 0.1
	done
done
b1=$(sed -n 's/^listening on //p' "$tmp/s1")
b2=$(sed -n 's/^listening on //p' "$tmp/s2")
"$bin/fanout/fanout_proxy" --merge interleave --embed local \
	--listen tcp://127.0.0.1:0 --listen inproc://fanout --call "$size" \
	"$b1" "$b2"
