#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages corpc needs, only those missing, saying what
# it installs. Idempotent; run as root (or with sudo available).
set -eu
PKGS="cmake make gcc g++ pkg-config
libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libprotoc-dev
libboost-context-dev libgrpc-dev libcmocka-dev libnghttp2-dev valgrind openssl
clang libclang-rt-14-dev clang-format
python3-grpcio python3-protobuf"
# Extra packages named by the caller (e.g. interop peers).
PKGS="$PKGS ${CORPC_EXTRA_PKGS:-}"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
# Node and npm for the grpc-js interop test, from Debian unless some node is
# already there (another install's npm would conflict with Debian's).
if ! command -v npm >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi
if [ -z "$missing" ]; then
	exit 0
fi
echo "deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
