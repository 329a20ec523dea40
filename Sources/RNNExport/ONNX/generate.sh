#!/usr/bin/env bash
# Regenerates onnx.pb.swift from onnx.proto (copied from the onnx Python package, 1.23.2:
# `python3 -c "import onnx, os; print(os.path.dirname(onnx.__file__))"`). Needs protoc
# (Debian: protobuf-compiler) and protoc-gen-swift of the swift-protobuf version that
# Package.swift names:
#   git clone --branch 1.39.0 https://github.com/apple/swift-protobuf && cd swift-protobuf
#   swift build -c release --product protoc-gen-swift
# then, from here:
#   PATH=/path/to/swift-protobuf/.build/release:$PATH bash generate.sh
set -euo pipefail
cd "$(dirname "$0")"
protoc --swift_out=. --swift_opt=Visibility=Internal onnx.proto
