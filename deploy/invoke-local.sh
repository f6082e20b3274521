#!/usr/bin/env bash
# Runs the `haul` binary as Lambda runs it, under `cargo lambda watch` (cargo-lambda's
# emulation of the Lambda Runtime API), and invokes its `checksum` handler with
# deploy/events/sqs-batch.json:
# one SQS message carrying an S3 notification, one that is not an event. The object is read
# from the S3 endpoint of `haul dev`. Checks that the answer lists only the bad message in
# batchItemFailures and that the result landed in the bucket.
#
#   deploy/invoke-local.sh        # after deploy/lint.sh installed cargo-lambda; CI runs it
#
# HAUL (the haul binary, default: $CARGO_TARGET_DIR/release/haul) runs the S3 endpoint.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${HAUL_DEPLOY_VENV:-$HOME/.cache/haul-deploy-venv}"
export PATH="$VENV/bin:$PATH"
command -v cargo-lambda >/dev/null || { echo "cargo-lambda is missing: run deploy/lint.sh first" >&2; exit 1; }
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
HAUL="${HAUL:-$TARGET/release/haul}"
[ -x "$HAUL" ] || { echo "no haul binary at $HAUL: cargo build --release -p haul" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 "$2"); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 1
  done
  echo "nothing listens on 127.0.0.1:$1 after $2 s" >&2
  return 1
}

s3_port="$(free_port)"
invoke_port="$(free_port)"
data="$work/data"
secret="invoke-local-$RANDOM$RANDOM"
"$HAUL" dev --data "$data" --secret-key "$secret" --no-console --s3-addr "127.0.0.1:$s3_port" --mqtt-addr 127.0.0.1:0 >"$work/dev.log" 2>&1 &
pids+=($!)
wait_port "$s3_port" 60 || { cat "$work/dev.log" >&2; exit 1; }

# The object the event names (key `hello+lambda.bin` in the event is `hello lambda.bin`),
# written into the bucket folder after `haul dev` started, so only the Lambda handler sees it.
dir="$data/haul-data/incoming/dev-1/2026/11/26/0f6c1a52-local"
mkdir -p "$dir"
printf 'hello lambda' >"$dir/hello lambda.bin"

echo "cargo lambda watch: haul, handler checksum, S3 at 127.0.0.1:$s3_port"
# `-p`/`--bin` pick what cargo builds; anything after `--` would be the binary's arguments,
# and the binary serves the Runtime API only when started without any (as Lambda starts it).
cargo lambda watch --quiet --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$invoke_port" \
  --env-var "_HANDLER=checksum,AWS_ENDPOINT_URL=http://127.0.0.1:$s3_port,AWS_REGION=us-east-1" \
  --env-var "AWS_ACCESS_KEY_ID=haul-dev,AWS_SECRET_ACCESS_KEY=$secret,HAUL_CONFIG=$PWD/stages/haul/haul.toml" \
  -p haul --bin haul >"$work/watch.log" 2>&1 &
pids+=($!)
wait_port "$invoke_port" 600 || { cat "$work/watch.log" >&2; exit 1; }

# The first invocation builds the binary; a function that never answers must not hang CI.
answer="$(timeout 900 cargo lambda invoke haul --invoke-address 127.0.0.1 --invoke-port "$invoke_port" \
  --data-file deploy/events/sqs-batch.json --output-format json)" || { cat "$work/watch.log" >&2; exit 1; }
echo "answer: $answer"
expected='{"batchItemFailures":[{"itemIdentifier":"9d2d6b1e-0002-4c3b-9a55-000000000002"}]}'
if [ "$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]), separators=(",",":")))' "$answer")" != "$expected" ]; then
  echo "expected $expected" >&2
  cat "$work/watch.log" >&2
  exit 1
fi
result="$data/haul-data/results/checksum/incoming/dev-1/2026/11/26/0f6c1a52-local/hello lambda.bin.json"
[ -f "$result" ] || { echo "no result at $result" >&2; cat "$work/watch.log" >&2; exit 1; }
python3 - "$result" <<'EOF'
import hashlib, json, sys
doc = json.load(open(sys.argv[1]))
want = hashlib.sha256(b"hello lambda").hexdigest()
text = json.dumps(doc)
assert doc.get("outcome") == "succeeded", f"outcome {doc.get('outcome')!r}: {text[:400]}"
assert want in text, f"the result does not carry sha256 {want}: {text[:400]}"
print(f"result {sys.argv[1].split('/haul-data/')[1]}: outcome {doc.get('outcome')}, sha256 {want[:16]}...")
EOF
