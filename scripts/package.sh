#!/usr/bin/env bash
# Build the one-folder application dist/FaceLink/ and a compressed archive of it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
$PY -m pip install --quiet -e '.[package]'
start=$(date +%s)
$PY -m PyInstaller --noconfirm --log-level WARN pyinstaller.spec
built=$(date +%s)
version=$($PY -c "import facelink_local; print(facelink_local.__version__)")
platform=$($PY -c "import sys, platform; print(f'{sys.platform}-{platform.machine()}')")
archive="dist/FaceLink-${version}-${platform}.tar.gz"
tar -C dist -czf "$archive" FaceLink
echo "built dist/FaceLink in $((built - start)) s: $(du -sh dist/FaceLink | cut -f1) as a folder, $(du -sh "$archive" | cut -f1) as $archive"
