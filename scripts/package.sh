#!/usr/bin/env bash
# Build the one-folder application dist/FaceLink/ and a compressed archive of
# it (dist/FaceLink-<version>-<platform>.tar.gz; .zip on Windows), then print
# the build time, the sizes and what takes the room (docs/packaging.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON_VENV:-.venv}/bin/python
[ -x "$PY" ] || PY=${PYTHON_VENV:-.venv}/Scripts/python.exe  # Windows (Git Bash)
mkdir -p build
# PyInstaller comes with the `package` extra (pyproject.toml).
"$PY" -m pip install --quiet -e '.[package]' > build/pip-package.log 2>&1 || { cat build/pip-package.log; exit 1; }
rm -rf dist/FaceLink dist/FaceLink.app dist/FaceLink-*
start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --log-level WARN pyinstaller.spec
built=$(date +%s)
name=$("$PY" -c "import facelink_local, platform, sys; print(f'FaceLink-{facelink_local.__version__}-{sys.platform}-{platform.machine().lower()}')")
root=FaceLink
[ -d dist/FaceLink.app ] && root=FaceLink.app  # macOS
if [[ "$name" == *-win32-* ]]; then
  archive="dist/$name.zip"
  "$PY" -c "import shutil; shutil.make_archive('dist/$name', 'zip', 'dist', '$root')"
else
  archive="dist/$name.tar.gz"
  tar -C dist -czf "$archive" "$root"
fi
archived=$(date +%s)
echo "built dist/FaceLink in $((built - start)) s, archived in $((archived - built)) s"
echo "size: $(du -sh dist/FaceLink | cut -f1) as a folder ($(du -sm dist/FaceLink | cut -f1) MiB)," \
     "$(du -sh "$archive" | cut -f1) as $archive"
echo "largest parts (MiB):"
# sed reads to the end (head would stop early, and sort's SIGPIPE fail the script under pipefail).
du -sm dist/FaceLink/_internal/* dist/FaceLink/facelink* 2>/dev/null | sort -rn | sed -n '1,12{s|dist/FaceLink/||; s|^|  |; p}'
