"""The packaged app's rules: what its entry point runs, and what the bundle keeps.

Building the bundle takes minutes, so `make smoke` (scripts/smoke_package.py)
builds and runs it; these tests check the rules it is built from.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from facelink_local import __version__

REPO = Path(__file__).resolve().parent.parent


def load(relative: str):
    """A module of packaging/ by path (the folder's name is taken by the `packaging` library)."""
    path = REPO / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rules = load("packaging/bundle_rules.py")
entry = load("packaging/facelink_main.py")


@pytest.mark.parametrize(("commands", "environ", "platform", "expected"), [
    ({"serve", "camera"}, {"DISPLAY": ":0"}, "linux", "serve"),        # no desktop app in this build
    ({"serve", "gui"}, {}, "linux", "serve"),                          # no display
    ({"serve", "gui"}, {"DISPLAY": ":0"}, "linux", "gui"),
    ({"serve", "gui"}, {"WAYLAND_DISPLAY": "wayland-0"}, "linux", "gui"),
    ({"serve", "gui"}, {"QT_QPA_PLATFORM": "offscreen"}, "linux", "gui"),
    ({"serve", "gui"}, {}, "win32", "gui"),
    ({"serve", "gui"}, {}, "darwin", "gui"),
])
def test_without_arguments_the_app_opens_the_desktop_app_where_it_can(commands, environ, platform, expected):
    command, notice = entry.default_command(commands, environ, platform)
    assert command == expected
    if expected == "serve":
        assert notice and "headless" in notice
    else:
        assert notice is None


def test_the_notice_names_the_reason():
    assert "not part of this build" in entry.default_command({"serve"}, {}, "linux")[1]
    assert "No display" in entry.default_command({"serve", "gui"}, {}, "linux")[1]


@pytest.mark.parametrize(("dest", "kept"), [
    ("face_recognition_models/models/shape_predictor_5_face_landmarks.dat", True),
    ("face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat", True),
    ("face_recognition_models/models/shape_predictor_68_face_landmarks.dat", False),
    ("anywhere/shape_predictor_68_face_landmarks.dat", False),
    ("face_recognition_models/models/mmod_human_face_detector.dat", False),
    ("facelink_local/faces/models/dlib_resnet_v1-55533b28a95800a5.onnx", True),
    ("sklearn/cluster/_hierarchical_fast.cpython-311-x86_64-linux-gnu.so", True),
    ("sklearn/cluster/_hierarchical_fast.pyx", False),
    ("sklearn/meson.build", False),
    ("sklearn/datasets/data/iris.csv", False),
    ("sklearn/datasets/_base.py", True),
    ("PySide6/Qt/lib/libQt6Widgets.so.6", True),
    ("PySide6/Qt/lib/libQt6Svg.so.6", True),
    ("PySide6/Qt/lib/libQt6DBus.so.6", True),      # QtGui links it on Linux
    ("libQt6Core.so.6", True),
    ("PySide6/Qt/lib/libQt6Network.so.6", False),
    ("PySide6/Qt/lib/libQt6Quick.so.6", False),
    ("PySide6/Qt/lib/libQt6EglFSDeviceIntegration.so.6", False),
    ("PySide6/Qt6Pdf.dll", False),
    ("PySide6/opengl32sw.dll", False),
    ("PySide6/Qt/translations/qtbase_de.qm", False),
    ("PySide6/Qt/qml/QtQuick/qmldir", False),
    ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
    ("PySide6/Qt/plugins/platforms/libqwayland.so", True),
    ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
    ("PySide6/plugins/platforms/qwindows.dll", True),
    ("PySide6/Qt/plugins/platforms/libqcocoa.dylib", True),
    ("PySide6/Qt/plugins/platforms/libqvnc.so", False),
    ("PySide6/Qt/plugins/platforms/libqeglfs.so", False),
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
    ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", True),
    ("PySide6/Qt/plugins/imageformats/libqjpeg.so", True),
    ("PySide6/Qt/plugins/iconengines/libqsvgicon.so", True),
    ("PySide6/Qt/plugins/styles/qmodernwindowsstyle.dll", True),
    ("PySide6/Qt/plugins/tls/libqopensslbackend.so", False),
    ("PySide6/Qt/plugins/egldeviceintegrations/libqeglfs-kms-integration.so", False),
])
def test_the_bundle_keeps_what_runs_and_drops_the_rest(dest, kept):
    assert rules.wanted(dest) is kept


class _Recorded:
    """Stands for one of PyInstaller's version-resource classes: keeps its arguments."""

    def __init__(self, kind: str):
        self.kind = kind

    def __call__(self, *args, **kwargs):
        return {"kind": self.kind, "args": args, **kwargs}


def test_the_windows_version_resource_carries_the_version():
    text = rules.windows_version_text(__version__, "FaceLink Local")
    names = ("VSVersionInfo", "FixedFileInfo", "StringFileInfo", "StringTable", "StringStruct", "VarFileInfo",
             "VarStruct")
    info = eval(text, {"__builtins__": {}}, {name: _Recorded(name) for name in names})  # as PyInstaller reads it
    assert info["kind"] == "VSVersionInfo"
    numbers = tuple(int(n) for n in __version__.split("."))[:4]
    assert info["ffi"]["filevers"][:len(numbers)] == numbers and len(info["ffi"]["filevers"]) == 4
    table = info["kids"][0]["args"][0][0]
    strings = dict(s["args"] for s in table["args"][1])
    assert strings["ProductVersion"] == __version__ and strings["ProductName"] == "FaceLink"
    assert strings["OriginalFilename"] == "facelink.exe"


def test_no_module_the_bundle_leaves_out_is_imported_at_run_time():
    """Everything `facelink` runs imports none of the spec's excluded modules."""
    code = """
import json, sys
import facelink_local.cli, facelink_local.api, facelink_local.hub, facelink_local.server
import facelink_local.camera, facelink_local.camera.command, firmware_bridge.haptics
import facelink_local.faces.onnx_models, facelink_local.recognition.clustering
import onnxruntime, onnx, dlib, cv2
import importlib, pkgutil
try:
    import gui  # the desktop app, where this checkout has it
except ModuleNotFoundError:
    pass
else:
    for module in pkgutil.walk_packages(gui.__path__, "gui."):
        importlib.import_module(module.name)
print(json.dumps(sorted(sys.modules)))
"""
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                           cwd=REPO).stdout))
    assert not loaded & set(rules.EXCLUDED_MODULES)
