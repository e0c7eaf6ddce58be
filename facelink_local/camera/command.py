"""`facelink camera`: run a feeder in the foreground, print what the hub saw, exit with a telling code."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable

import click

from .client import CameraClient, CameraError, LoginRefused
from .feeder import Backoff, Feeder, GaveUp
from .sources import Frame, SourceError, Unreadable

EXIT_OK = 0
EXIT_ERROR = 1          # the source failed, or the hub answered something unexpected
EXIT_LOGIN_REFUSED = 3
EXIT_UNREACHABLE = 4    # the hub stayed away longer than --give-up-after
EXIT_INTERRUPTED = 130  # Ctrl+C


def run_camera(client: CameraClient, source: Iterable[Frame | Unreadable], *, interval: float, threshold: float,
               queue_size: int, give_up_after: float | None, max_backoff: float) -> int:
    """Feed until the source ends, Ctrl+C or SIGTERM; returns the exit code."""
    feeder = Feeder(client, source, interval=interval, threshold=threshold, queue_size=queue_size,
                    backoff=Backoff(cap=max_backoff), give_up_after=give_up_after, report=click.echo)
    interrupted: list[int] = []

    def on_signal(signum: int, _frame) -> None:
        if signum == signal.SIGINT and interrupted:
            raise KeyboardInterrupt  # a second Ctrl+C: do not wait for the upload in progress
        interrupted.append(signum)
        feeder.stop()

    in_main_thread = threading.current_thread() is threading.main_thread()  # signals can only be set there
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)} if in_main_thread else {}
    click.echo(f"Feeding {client.url} as {client.username}, one frame every {interval:g} s (Ctrl+C stops)")
    code = EXIT_OK
    try:
        feeder.run()
    except KeyboardInterrupt:
        interrupted.append(signal.SIGINT)
    except LoginRefused as exc:
        click.echo(f"Error: {exc}. Check --username and the password.", err=True)
        code = EXIT_LOGIN_REFUSED
    except GaveUp as exc:
        click.echo(f"Error: {exc}", err=True)
        code = EXIT_UNREACHABLE
    except (CameraError, SourceError) as exc:
        click.echo(f"Error: {exc}", err=True)
        code = EXIT_ERROR
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        client.close()
    if code == EXIT_OK and signal.SIGINT in interrupted:
        code = EXIT_INTERRUPTED
    click.echo(("stopped: " if interrupted or code else "done: ") + feeder.stats.summary())
    return code
