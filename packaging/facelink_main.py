"""Entry point of the packaged application: `facelink` opens the desktop app;
`facelink serve ...` and every other command work as in the Python install."""

import multiprocessing
import sys

from facelink_local.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    if len(sys.argv) == 1:
        sys.argv.append("gui")
    main(prog_name="facelink")
