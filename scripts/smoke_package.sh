#!/usr/bin/env bash
# Smoke test of the packaged app: start dist/FaceLink/facelink headless on
# 127.0.0.1, check /health, register, upload a real photo, check the answer, stop.
set -euo pipefail
cd "$(dirname "$0")/.."
app=dist/FaceLink/facelink
[ -x "$app" ] || { echo "no packaged app at $app: run scripts/package.sh first" >&2; exit 1; }
faces=${FACELINK_SHARED_FACES:-../shared/faces}
photo="$faces/identities/colin_powell/01.jpg"
data=$(mktemp -d)
port=$(.venv/bin/python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$app" serve --host 127.0.0.1 --port "$port" --data-dir "$data" > "$data/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 120); do curl -sf "$base/health" >/dev/null && break; sleep 0.5; done
curl -sf "$base/health" | grep -q '"status":"ok"' || { cat "$data/serve.log"; echo "FAIL: no /health"; exit 1; }
token=$(curl -sf -X POST "$base/api/v1/register" -H 'Content-Type: application/json' \
  -d '{"username": "smoke", "password": "smoke test password"}' | .venv/bin/python -c "import json,sys; print(json.load(sys.stdin)['access_token'])")
if [ -f "$photo" ]; then
  answer=$(curl -sf -X POST "$base/api/v1/upload_image" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/octet-stream' --data-binary @"$photo")
  echo "$answer" | .venv/bin/python -c "
import json, sys
body = json.load(sys.stdin)
assert body['message'] == 'Image uploaded successfully', body
assert [f['status'] for f in body['faces']] == ['unknown'], body
print('upload answered:', body)"
else
  echo "note: $photo not found; uploading a generated image instead"
  .venv/bin/python -c "from PIL import Image; Image.new('RGB', (64, 64)).save('$data/blank.png')"
  curl -sf -X POST "$base/api/v1/upload_image" -H "Authorization: Bearer $token" \
    -H 'Content-Type: image/png' --data-binary @"$data/blank.png" | grep -q '"faces":\[\]'
fi
timeline=$(curl -sf "$base/api/v1/pull_timeline" -H "Authorization: Bearer $token")
echo "timeline: $timeline"
kill -TERM $pid
wait $pid || true
echo "packaged app smoke test OK"
