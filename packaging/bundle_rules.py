"""What goes into the packaged app, for pyinstaller.spec and the smoke test.

Plain functions of file names, so both read the same rules and tests can
check them without building anything.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path, PurePath

APP_NAME = "FaceLink"
EXECUTABLE = "facelink"
BUNDLE_IDENTIFIER = "local.facelink.hub"

# The dlib models the engines load (dlib_models.py); the ONNX descriptor is
# built from the ResNet .dat, whose hash also names and checks it.
NEEDED_MODELS = ("shape_predictor_5_face_landmarks.dat", "dlib_face_recognition_resnet_model_v1.dat")
# Never shipped: the 68-point model's training data forbids commercial use;
# the CNN detector is not used.
FORBIDDEN_FILES = ("shape_predictor_68_face_landmarks.dat", "mmod_human_face_detector.dat")

# Modules PyInstaller would otherwise follow into the bundle, none imported at run time.
EXCLUDED_MODULES = [
    # test and build tools
    "pytest", "_pytest", "pytestqt", "pytest_asyncio", "pytest_timeout", "schemathesis", "hypothesis",
    "PyInstaller", "setuptools", "pip", "IPython", "jupyter", "notebook",
    # plotting and frameworks nothing here uses
    "tkinter", "matplotlib", "pandas", "sympy", "torch",
    # Qt bindings the desktop app does not use (it needs QtCore, QtGui, QtWidgets, QtSvg)
    "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets", "PySide6.QtQuick3D", "PySide6.QtSql",
    "PySide6.QtTest", "PySide6.QtNetwork", "PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets",
    "PySide6.QtConcurrent", "PySide6.QtXml", "PySide6.QtDesigner", "PySide6.QtHelp", "PySide6.QtUiTools",
    "PySide6.QtPrintSupport", "PySide6.QtPdf", "PySide6.QtPdfWidgets", "PySide6.QtCharts",
    "PySide6.QtMultimedia", "PySide6.QtMultimediaWidgets", "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets", "PySide6.Qt3DCore", "PySide6.QtStateMachine", "PySide6.QtDBus",
]
FORBIDDEN_MODULES = ("pytest", "_pytest", "pytestqt", "hypothesis", "schemathesis", "matplotlib", "PyInstaller",
                     "IPython", "tkinter", "setuptools", "pip")

# Qt plugin folders a widgets app loads: the windowing system, image formats
# (SVG, JPEG...), SVG icons, styles, and input methods.
QT_PLUGINS = ("platforms", "imageformats", "iconengines", "styles", "platformthemes", "platforminputcontexts",
              "xcbglintegrations", "wayland-shell-integration", "wayland-decoration-client",
              "wayland-graphics-integration-client")
# Plugins in those folders that a desktop never loads: embedded-device and
# VNC platforms (eglfs, linuxfb, vkkhrdisplay, vnc needs QtNetwork), and the
# GTK theme (it needs the system's GTK, which the bundle would then mix with its own libraries).
UNUSED_QT_PLUGINS = ("qeglfs", "qlinuxfb", "qminimalegl", "qvkkhrdisplay", "qvnc", "qgtk3")
# Qt libraries of modules the app does not use (pulled in by plugins or hooks),
# and Windows' software OpenGL (only Qt Quick and OpenGL widgets need it).
UNUSED_QT_LIBS = ("Qt6Quick", "Qt6Qml", "Qt6Pdf", "Qt6VirtualKeyboard", "Qt6Sql", "Qt6Test", "Qt6Designer",
                  "Qt6ShaderTools", "Qt63D", "Qt6Charts", "Qt6Multimedia", "Qt6WebEngine", "Qt6Network",
                  "Qt6OpenGLWidgets", "Qt6EglFSDeviceIntegration", "Qt6EglFsKmsSupport", "opengl32sw")
# Sources and build files some packages ship beside their modules (scikit-learn's .pyx, meson.build...).
SOURCE_SUFFIXES = (".pyx", ".pxd", ".pxi", ".tp", ".c", ".cpp", ".h", ".hpp")
# Data only read by functions the app never calls (scikit-learn's toy data sets).
UNUSED_DATA_DIRS = (("sklearn", "datasets", "data"), ("sklearn", "datasets", "images"), ("sklearn", "datasets", "descr"))


def is_qt_file(parts: tuple[str, ...]) -> bool:
    return bool(parts) and parts[0] == "PySide6"


def wanted(dest: str) -> bool:
    """Whether a file collected for the bundle (by its path inside the bundle) belongs in it."""
    path = PurePath(dest)
    parts = path.parts
    name = path.name
    if name in FORBIDDEN_FILES:
        return False
    if path.suffix in SOURCE_SUFFIXES or name == "meson.build":
        return False
    if any(parts[:len(folder)] == folder for folder in UNUSED_DATA_DIRS):
        return False
    if is_qt_file(parts):
        if "translations" in parts or "qml" in parts:
            return False
        if "plugins" in parts:
            i = parts.index("plugins")
            plugin = path.stem.removeprefix("lib")
            return len(parts) > i + 2 and parts[i + 1] in QT_PLUGINS and plugin not in UNUSED_QT_PLUGINS
    stem = name.removeprefix("lib")
    return not stem.startswith(UNUSED_QT_LIBS)


def windows_version_text(version: str, description: str) -> str:
    """facelink.exe's version resource, in the text form PyInstaller's `EXE(version=FILE)` reads.

    (PyInstaller's own classes for it import pywin32, so the text is written
    here, in the layout of PyInstaller's `pyi-grab_version` output.)
    """
    numbers = [int(part) for part in version.split("+")[0].split(".")[:4] if part.isdigit()]
    numbers = tuple((numbers + [0, 0, 0, 0])[:4])
    strings = {
        "CompanyName": "FaceLink Local",
        "FileDescription": description,
        "FileVersion": version,
        "InternalName": EXECUTABLE,
        "OriginalFilename": f"{EXECUTABLE}.exe",
        "ProductName": APP_NAME,
        "ProductVersion": version,
        "LegalCopyright": "MIT licence",
    }
    table = ",\n".join(f"        StringStruct({key!r}, {value!r})" for key, value in strings.items())
    return f"""# UTF-8
VSVersionInfo(
  ffi=FixedFileInfo(
    filevers={numbers},
    prodvers={numbers},
    mask=0x3f,
    flags=0x0,
    OS=0x40004,
    fileType=0x1,
    subtype=0x0,
    date=(0, 0)
  ),
  kids=[
    StringFileInfo([
      StringTable('040904B0', [
{table}
      ])
    ]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""


def has_debug_info(path: Path) -> bool:
    """Whether an ELF file carries DWARF debug sections (never loaded at run time)."""
    if not shutil.which("readelf"):
        return False
    sections = subprocess.run(["readelf", "-S", "-W", str(path)], capture_output=True, text=True).stdout
    return ".debug_info" in sections


def without_debug_info(src: Path, dest: Path) -> Path:
    """A copy of `src` without its debug sections (`strip --strip-debug`: symbols stay), or `src` itself.

    Only files that carry debug sections are rewritten: a full strip, or
    touching already stripped libraries, is what breaks some (OpenBLAS).
    """
    if not (shutil.which("strip") and has_debug_info(src)):
        return src
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists() or dest.stat().st_mtime < src.stat().st_mtime:
        subprocess.run(["strip", "--strip-debug", "-o", str(dest), str(src)], check=True)
    return dest
