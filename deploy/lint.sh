#!/usr/bin/env bash
# Lints deploy/template.yaml with cfn-lint and `sam validate --lint` (they need only a
# region, no credentials). Installs the pinned tools of deploy/requirements.txt into a
# virtualenv when missing or changed (idempotent). HAUL_SAM_BUILD=1 also runs `sam build`
# (no Docker: deploy/Makefile cross-compiles the bootstrap with cargo-lambda and zig).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${HAUL_DEPLOY_VENV:-$HOME/.cache/haul-deploy-venv}"
REQUIREMENTS=deploy/requirements.txt
STAMP="$VENV/.haul-requirements"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! cmp -s "$REQUIREMENTS" "$STAMP"; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  cp "$REQUIREMENTS" "$STAMP"
fi

export PATH="$VENV/bin:$PATH"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export SAM_CLI_TELEMETRY=0

echo "cfn-lint $(cfn-lint --version | awk '{print $2}'): deploy/template.yaml"
cfn-lint deploy/template.yaml
echo "sam validate --lint: deploy/template.yaml"
sam validate --lint -t deploy/template.yaml

if [ "${HAUL_SAM_BUILD:-0}" = 1 ]; then
  BUILD_DIR="${CARGO_TARGET_DIR:-$PWD/target}/sam-build"
  echo "sam build (makefile, cargo-lambda + zig, glibc 2.34) into $BUILD_DIR"
  sam build -t deploy/template.yaml --build-dir "$BUILD_DIR"
  for f in "$BUILD_DIR"/*/bootstrap; do
    glibc=$(objdump -T "$f" | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -1)
    echo "$f: $(du -h "$f" | cut -f1), needs $glibc"
    case "$glibc" in GLIBC_2.3[5-9]*|GLIBC_2.[4-9]*) echo "needs a newer glibc than provided.al2023 (2.34)" >&2; exit 1 ;; esac
  done
fi
