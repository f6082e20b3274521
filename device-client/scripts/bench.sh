#!/usr/bin/env bash
# Side-by-side upload benchmark: haul-device vs `curl -T` against the same s3s-fs endpoint
# (fake cloud example), plus haul-device's peak RSS for a 10 MiB and a 1 GiB file.
# Usage: device-client/scripts/bench.sh [ROUNDS]   (needs /usr/bin/time and curl)
set -euo pipefail
rounds=${1:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d)
trap 'kill $(cat "$work/cloud.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release -p haul-device --bin haul-device
cargo build --release -p haul-device --example fake_cloud
strip -o "$work/haul-device" "$target/release/haul-device"
echo "stripped haul-device: $(stat -c %s "$work/haul-device") bytes"

head -c $((10 << 20)) /dev/urandom > "$work/f10m.bin"
head -c $((1 << 30)) /dev/urandom > "$work/f1g.bin"
# Threshold above 1 GiB: haul-device does one PUT, like curl.
"$target/release/examples/fake_cloud" 2147483648 "$work/f1g.bin" > "$work/cloud.out" 2> "$work/cloud.err" &
echo $! > "$work/cloud.pid"
for _ in $(seq 1 100); do grep -q '^curl' "$work/cloud.out" 2>/dev/null && break; sleep 0.2; done
mqtt=$(awk '/^mqtt_url/{print $2}' "$work/cloud.out")
curl_cmd=$(grep '^curl' "$work/cloud.out")

haul() { # FILE -> "transfer_MiB_s wall_s rss_KiB"
  /usr/bin/time -v "$work/haul-device" --mqtt-url "$mqtt" --device bench --progress off --json \
      --state-dir "$work/state" upload "$1" > "$work/haul.json" 2> "$work/haul.time"
  python3 - "$work/haul.json" "$work/haul.time" <<'PY'
import json, re, sys
o = json.loads(open(sys.argv[1]).read().splitlines()[0])
t = open(sys.argv[2]).read()
rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)
transfer = (o["elapsed_ms"] - o["hash_ms"]) / 1000
print(f'{o["size"] / transfer / 2**20:.1f} {o["elapsed_ms"] / 1000:.2f} {rss} hash={o["hash_ms"] / 1000:.2f}s')
PY
}
curl_run() { # -> "MiB_s rss_KiB"
  /usr/bin/time -v bash -c "$curl_cmd" > "$work/curl.out" 2> "$work/curl.time"
  awk '{printf "%.1f ", $2 / 1048576}' "$work/curl.out"
  grep -o 'Maximum resident set size (kbytes): [0-9]*' "$work/curl.time" | awk '{print $NF}'
}

echo "10 MiB haul-device (MiB/s after hashing, wall s, peak RSS KiB): $(haul "$work/f10m.bin")"
for i in $(seq 1 "$rounds"); do
  echo "round $i 1 GiB curl -T     (MiB/s, peak RSS KiB): $(curl_run)"
  echo "round $i 1 GiB haul-device (MiB/s after hashing, wall s, peak RSS KiB): $(haul "$work/f1g.bin")"
done
