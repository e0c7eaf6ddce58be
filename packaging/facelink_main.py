"""Entry point of the packaged application (dist/FaceLink/facelink).

With arguments it is the `facelink` command of the Python install, option for
option. Without any (a double click, a desktop shortcut, macOS's FaceLink.app)
it opens the desktop app, `facelink gui`. Where that cannot work, it says why
on the first line and serves the hub headless instead, as `facelink serve`
would (the same settings, from the environment):

- the desktop app is not part of this build (no `gui` command);
- on Linux and other X11/Wayland systems, there is no display.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Collection, Mapping


def default_command(commands: Collection[str], environ: Mapping[str, str], platform: str) -> tuple[str, str | None]:
    """The command to run when the app is started without arguments, and a notice saying why, if not the GUI."""
    if "gui" not in commands:
        return "serve", "The desktop app is not part of this build: serving the hub headless (facelink serve)."
    has_display = (platform in ("win32", "darwin") or bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))
                   or environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal", "vnc"))
    if not has_display:
        return "serve", "No display found: serving the hub headless (facelink serve); facelink gui opens the desktop app."
    return "gui", None


def run() -> None:
    from facelink_local.cli import main

    if len(sys.argv) == 1:
        command, notice = default_command(main.commands, os.environ, sys.platform)
        if notice:
            print(notice, flush=True)
        sys.argv.append(command)
    main(prog_name="facelink")


if __name__ == "__main__":
    multiprocessing.freeze_support()
    run()
