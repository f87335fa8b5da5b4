#!/bin/sh
# Generates the Python modules of the geoaccess API (messages and gRPC
# stubs) and of googleapis' google.rpc status and error details into
# examples/python/gen (or the directory given). Generated code is not
# committed: run this after every change to proto/.
#
# Needs protoc 3.15 or newer (proto3 `optional`) and gRPC's Python plugin.
# On Debian 12: apt-get install protobuf-compiler protobuf-compiler-grpc
# libgoogle-common-protos-java unzip python3-grpcio python3-protobuf.
# Not Debian's `python3 -m grpc_tools.protoc` (python3-grpc-tools): it
# bundles protoc 3.5.1, which rejects proto3 `optional`.
#
# google/rpc/status.proto and error_details.proto come from googleapis'
# common protos, as Debian's libgoogle-common-protos-java ships them (a
# jar that carries the .proto files); GOOGLE_PROTOS_DIR names a directory
# holding google/rpc/*.proto instead (e.g. a googleapis checkout).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$here/gen}
protoc=${PROTOC:-protoc}
plugin=${GRPC_PYTHON_PLUGIN:-$(command -v grpc_python_plugin || true)}
jar=${GOOGLE_PROTOS_JAR:-/usr/share/java/proto-google-common-protos-1.16.0.jar}

version=$("$protoc" --version | sed 's/^libprotoc //')
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
if [ "$major" -lt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -lt 15 ]; }; then
	echo "generate.sh: $protoc is $version: proto3 optional needs protoc 3.15 or newer (Debian 12: protobuf-compiler)" >&2
	exit 1
fi
if [ -z "$plugin" ]; then
	echo "generate.sh: grpc_python_plugin not found (Debian: protobuf-compiler-grpc)" >&2
	exit 1
fi

rm -rf "$out"
mkdir -p "$out"
include=${GOOGLE_PROTOS_DIR:-}
if [ -z "$include" ]; then
	if [ ! -f "$jar" ]; then
		echo "generate.sh: $jar is missing (Debian: libgoogle-common-protos-java), or set GOOGLE_PROTOS_DIR" >&2
		exit 1
	fi
	include=$out/.include
	unzip -q -o "$jar" google/rpc/status.proto google/rpc/error_details.proto -d "$include"
fi

# Messages for the API and the google.rpc types it and its errors use;
# stubs for the API's service.
"$protoc" -I "$repo/proto" -I "$include" --python_out="$out" \
	geoaccess/v1/adequacy.proto google/rpc/status.proto google/rpc/error_details.proto
"$protoc" -I "$repo/proto" -I "$include" --grpc_out="$out" --plugin=protoc-gen-grpc="$plugin" \
	geoaccess/v1/adequacy.proto
echo "generated into $out with protoc $version"
