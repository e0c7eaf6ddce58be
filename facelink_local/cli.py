"""`facelink`: serve the API or open the desktop app, and look after the hub's data."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import __version__
from .config import DEFAULT_PORT, Settings, Tuning, default_data_dir, prepare_data_dir

if TYPE_CHECKING:
    from .hub import Hub


def settings_from(data_dir: Path | None, **changes) -> Settings:
    return Settings(data_dir=Path(data_dir) if data_dir else default_data_dir(), **changes)


data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), envvar="FACELINK_DATA_DIR",
    default=None, help="Where the database and keys live [env FACELINK_DATA_DIR; default: the user data folder].",
)
engine_option = click.option(
    "--engine", type=click.Choice(["onnx", "dlib"]), default=Settings.engine, envvar="FACELINK_ENGINE",
    show_default=True, help="Face engine: 'onnx' (dlib's models, the descriptor on onnxruntime) or 'dlib' "
                            "[env FACELINK_ENGINE].",
)
serial_option = click.option(
    "--serial", metavar="PORT", envvar="FACELINK_SERIAL", default=None,
    help="The haptic wearable's serial port, or 'auto' to find it among USB serial ports "
         "[env FACELINK_SERIAL; default: the port chosen last time, if any].",
)


def haptic_options(command):
    """The wearable's settings on `serve` and `gui`; a value given is stored for later runs."""
    for name, flag, kind, text in reversed([
        ("haptic_repeat", "--haptic-repeat", click.IntRange, "Times the wearable plays a pattern"),
        ("haptic_intensity", "--haptic-intensity", click.IntRange, "Motor strength, as PWM duty"),
        ("haptic_cooldown_s", "--haptic-cooldown", click.FloatRange, "Seconds before the same contact buzzes again"),
    ]):
        low, high = Tuning.LIMITS[name]
        envvar = "FACELINK_" + flag[2:].upper().replace("-", "_")
        command = click.option(
            flag, name, type=kind(low, high), envvar=envvar, default=None,
            help=f"{text}; stored for later runs [env {envvar}; default: the stored setting, "
                 f"else {getattr(Tuning(), name):g}].",
        )(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="facelink")
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
def main(verbose: bool) -> None:
    """FaceLink Local: an offline face-recognition hub for a haptic wearable."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


host_option = click.option("--host", default="0.0.0.0", envvar="FACELINK_HOST", show_default=True,
                           help="Interface to listen on [env FACELINK_HOST].")
port_option = click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, envvar="FACELINK_PORT",
                           show_default=True, help="TCP port [env FACELINK_PORT].")


@main.command()
@host_option
@port_option
@data_dir_option
@engine_option
@serial_option
@haptic_options
def serve(host: str, port: int, data_dir: Path | None, engine: str, serial: str | None,
          **haptic: float | int | None) -> None:
    """Serve the REST API to the wearable camera and LAN devices."""
    from .api import create_app
    from .server import bind_error, make_socket, serve_forever

    settings = settings_from(data_dir, host=host, port=port, engine=engine)
    # The port and the data folder first: a second hub stops here, before touching the wearable.
    try:
        sock = make_socket(host, port)
    except OSError as exc:
        raise click.ClickException(f"{bind_error(port, exc, facelink_on(port))} Choose another with --port "
                                   "(or FACELINK_PORT).") from exc
    try:
        with open_hub(settings) as hub:
            click.echo(f"FaceLink Local {__version__}: data in {hub.settings.data_dir}")
            click.echo(f"Face engine: {hub.engine.id}")
            show_reembedding(hub)
            haptics = start_haptics(hub, serial, **haptic)
            show_addresses(host, sock.getsockname()[1])
            try:
                serve_forever(create_app(hub), sock)
            finally:
                if haptics is not None:
                    haptics.stop()
    finally:
        sock.close()


def facelink_on(port: int) -> bool:
    """Whether the program holding `port` on this machine is a FaceLink hub (it answers /health)."""
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
            return json.load(answer).get("status") == "ok"
    except (OSError, ValueError, AttributeError):
        return False


def show_addresses(host: str, port: int) -> None:
    from .server import lan_urls
    from .services.pairing import is_local_address

    if host == "localhost" or is_local_address(host):
        click.echo(f"Only programs on this computer can reach the hub (it listens on {host}; "
                   "--host 0.0.0.0 opens it to the network):")
    else:
        click.echo("Devices on your network can reach the hub at:")
    for url in lan_urls(host, port):
        click.echo(f"  {url}")


@contextmanager
def holding_data_folder(data_dir: Path, advice: str = "stop it first, or use another --data-dir") -> Iterator[None]:
    """This process's hold on the data folder (see data_lock); a clear error if another hub has it."""
    from .data_lock import DataFolderInUse, hold_data_folder

    prepare_data_dir(data_dir)
    try:
        lock = hold_data_folder(data_dir)
    except DataFolderInUse as exc:
        raise click.ClickException(f"{exc}: {advice}.") from exc
    try:
        yield
    finally:
        lock.release()


@contextmanager
def open_hub(settings: Settings, advice: str = "stop it first, or use another --data-dir",
             hold: bool = True) -> Iterator[Hub]:
    """A hub on `settings`, closed afterwards; while it is open this process holds the data folder
    (`hold`), so no other hub or data command changes it underneath."""
    from .hub import Hub

    with holding_data_folder(settings.data_dir, advice) if hold else nullcontext():
        hub = Hub(settings)
        try:
            yield hub
        finally:
            hub.close()


@main.command()
@host_option
@port_option
@data_dir_option
@engine_option
@serial_option
@haptic_options
def gui(host: str, port: int, data_dir: Path | None, engine: str, serial: str | None,
        **haptic: float | int | None) -> None:
    """Open the desktop app; it serves the REST API to LAN devices while it is open.

    The port and the face engine chosen in the app are used, unless --port / --engine (or their
    environment variables) say otherwise.
    """
    import os
    import sys

    from click.core import ParameterSource

    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))):
        raise click.ClickException("no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset): "
                                   "use `facelink serve` to run the hub headless")
    try:
        from gui.app import run
    except ImportError as exc:  # a display library or the Qt wheel is missing
        raise click.ClickException(f"the desktop app cannot start: {exc}") from exc
    from gui.prefs import startup_engine

    given = {name: click.get_current_context().get_parameter_source(name) != ParameterSource.DEFAULT
             for name in ("port", "engine")}
    settings = settings_from(data_dir, host=host, port=port, engine=engine)
    # Like the port: the engine chosen in the app last time, unless --engine / FACELINK_ENGINE says otherwise.
    settings = settings.with_(engine=startup_engine(settings.data_dir, engine, given["engine"]))
    with open_hub(settings) as hub:
        click.echo(f"FaceLink Local {__version__}: data in {hub.settings.data_dir}")
        click.echo(f"Face engine: {hub.engine.id}")
        haptics = start_haptics(hub, serial, **haptic)
        code = run(hub, host, port, haptics, port_from_prefs=not given["port"], echo=click.echo)
    click.get_current_context().exit(code)


def show_reembedding(hub) -> None:
    """A progress bar for the re-embedding job the hub runs as it starts serving, if there is one."""
    compatible, dormant = hub.reembed.plan()
    for engine_id, count in dormant.items():
        click.echo(f"Kept, unused: {count} stored faces of {engine_id} (another detector or aligner; "
                   "`facelink reembed --purge-dormant` deletes them)")
    if not compatible:
        return
    from tqdm import tqdm

    from .services.reembed import ReembedProgress

    total = sum(compatible.values())
    click.echo(f"Re-embedding {total} stored faces for this engine in the background; uploads are served meanwhile.")
    bar = tqdm(total=total, desc="re-embedding", unit="face")

    def advance(event: ReembedProgress) -> None:
        status = event.status
        bar.total = max(bar.total, status.total)
        bar.update(status.done + status.skipped - bar.n)
        if not status.running and status.started_at is not None:
            bar.close()
            unsubscribe()

    unsubscribe = hub.events.subscribe(ReembedProgress.TOPIC, advance)


def start_haptics(hub, serial: str | None, **settings: float | int | None):
    """The haptic bridge, started, when a wearable port is given or was chosen before; else None.

    `settings` (haptic_repeat, haptic_intensity, haptic_cooldown_s; None: keep) are stored first."""
    changes = {name: value for name, value in settings.items() if value is not None}
    if changes:
        hub.tuning.update(**changes)
    if not (serial or hub.tuning.current.serial_port):
        return None
    from firmware_bridge.haptics import HapticBridge

    bridge = HapticBridge.for_hub(hub, serial).start()
    tuning = hub.tuning.current
    state = "connecting" if bridge.state == "disconnected" else bridge.state  # its first try is under way
    click.echo(f"Haptic wearable: {tuning.serial_port} ({state}); repeat {tuning.haptic_repeat}, "
               f"intensity {tuning.haptic_intensity}, cooldown {tuning.haptic_cooldown_s:g} s")
    return bridge


@main.command("rotate-secret")
@data_dir_option
def rotate_secret(data_dir: Path | None) -> None:
    """Replace the token signing secret: every issued token stops working, also on a running hub."""
    from .auth.tokens import write_secret

    settings = settings_from(data_dir)
    prepare_data_dir(settings.data_dir)
    write_secret(settings.secret_path)
    click.echo("Signing secret replaced: every device must log in again.")


@main.command()
@click.option("--username", required=True, help="Whose unknown faces to regroup.")
@data_dir_option
@engine_option
def recluster(username: str, data_dir: Path | None, engine: str) -> None:
    """Regroup a user's unknown faces from scratch (groups that survive keep their ids)."""
    with open_hub(settings_from(data_dir, engine=engine), "stop it first: it would go on with the old groups") as hub:
        user_id = hub.accounts.user_id_for(username)
        if user_id is None:
            raise click.ClickException(f"no user named {username!r}")
        clusters = hub.timeline.recluster(user_id)
        click.echo(f"{username}: {clusters} clusters")


OTHER_ARCHIVES = {".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar"}


def tally(counts: dict[str, int]) -> str:
    """"1 contact, 3 faces, 0 clusters and 5 uploads"."""
    parts = [f"{counts[k]} {k[:-1] if counts[k] == 1 else k}" for k in ("contacts", "faces", "clusters", "uploads")]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def open_store(data_dir: Path | None):
    """The hub's database, for the data commands; never creates an empty one."""
    from .store import Store

    settings = settings_from(data_dir)
    if not settings.db_path.exists():
        raise click.ClickException(f"no FaceLink data in {settings.data_dir} (use --data-dir)")
    prepare_data_dir(settings.data_dir)
    return Store(settings.db_path)


@main.command()
@click.option("--username", required=True, help="Whose data to export.")
@click.option("--output", required=True, type=click.Path(path_type=Path),
              help="A file ending in .zip, or a folder to create; never written over.")
@data_dir_option
def export(username: str, output: Path, data_dir: Path | None) -> None:
    """Export everything kept of a user: account (never the password hash), contacts,
    faces with embeddings, thumbnails and chips, clusters and uploads, as JSON and images."""
    from .services.errors import NotFound
    from .services.privacy import ExportExists, PrivacyService

    if output.suffix.lower() in OTHER_ARCHIVES:
        raise click.BadParameter(f"only zip archives are written: name it {output.stem}.zip, or give a folder",
                                 param_hint="--output")
    store = open_store(data_dir)
    try:
        privacy = PrivacyService(store)
        try:
            counts = privacy.export(privacy.user_id_for(username), output)
        except (NotFound, ExportExists) as exc:
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:  # e.g. the folder to write into does not exist
            raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from exc
    finally:
        store.close()
    click.echo(f"{username}: {tally(counts)} exported to {output} (readable by you only)")


@main.command("delete-user")
@click.option("--username", required=True, help="Whose account and data to delete.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@data_dir_option
def delete_user(username: str, yes: bool, data_dir: Path | None) -> None:
    """Delete a user and everything kept of them, overwritten in the database file.
    Works while the hub runs: the user's tokens stop working at once."""
    from .services.errors import NotFound
    from .services.privacy import PrivacyService

    store = open_store(data_dir)
    try:
        privacy = PrivacyService(store)
        try:
            user_id = privacy.user_id_for(username)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from exc
        counts = privacy.counts(user_id)
        if not yes:
            click.confirm(f"Delete {username} for good, with {tally(counts)}?", abort=True)
        deleted = privacy.delete_user(user_id)
    finally:
        store.close()
    click.echo(f"{deleted.username} deleted: {tally(deleted.counts)}, overwritten.")
    if not deleted.checkpointed:
        click.echo("The running hub kept the database busy: its next checkpoint finishes overwriting the "
                   "old copies in the write-ahead log.", err=True)


@main.command()
@data_dir_option
@engine_option
@click.option("--status", "status_only", is_flag=True, help="Only show what is stored and what would be done.")
@click.option("--purge-dormant", is_flag=True,
              help="Delete the stored faces this engine cannot re-embed (made by another detector or aligner).")
@click.option("--yes", is_flag=True, help="Do not ask before --purge-dormant deletes.")
def reembed(data_dir: Path | None, engine: str, status_only: bool, purge_dormant: bool, yes: bool) -> None:
    """Re-embed stored faces for the face engine (--engine) from their aligned chips, with a progress bar.

    `facelink serve` does the same in the background as it starts; this runs it
    in the foreground. An interrupted run carries on where it stopped.
    """
    from tqdm import tqdm

    # Only looking is fine beside a running hub; changing its faces is not.
    advice = "stop it first (`reembed --status` works beside it; the desktop app switches engines itself, in Status)"
    with open_hub(settings_from(data_dir, engine=engine), advice, hold=not status_only) as hub:
        compatible, dormant = hub.reembed.plan()
        current = hub.reembed.stored_engines().get(hub.engine.id, 0)
        click.echo(f"Face engine: {hub.engine.id}")
        click.echo(f"  {current} stored faces made by it")
        for engine_id, count in compatible.items():
            click.echo(f"  {count} to re-embed, from {engine_id}")
        for engine_id, count in dormant.items():
            click.echo(f"  {count} dormant (another detector or aligner: kept, never compared), from {engine_id}")
        if purge_dormant and dormant:
            if not yes:
                click.confirm(f"Delete {sum(dormant.values())} dormant faces for good?", abort=True)
            click.echo(f"Deleted {hub.reembed.purge_dormant()} dormant faces.")
        if status_only or not compatible:
            return
        hub.warm_up()
        with tqdm(total=sum(compatible.values()), desc="re-embedding", unit="face") as bar:
            def advance(status) -> None:
                bar.total = max(bar.total, status.total)
                bar.update(status.done + status.skipped - bar.n)

            status = hub.reembed.run(progress=advance)
        click.echo(f"Re-embedded {status.done} faces" + (f"; {status.skipped} chips could not be read and stay "
                                                          "dormant" if status.skipped else "") + ".")
        if status.state == "failed":
            raise click.ClickException(f"re-embedding failed: {status.error}")


@main.command()
@click.option("--url", default=f"http://127.0.0.1:{DEFAULT_PORT}", envvar="FACELINK_URL", show_default=True,
              help="The hub's address [env FACELINK_URL].")
@click.option("--username", "-u", required=True, envvar="FACELINK_USERNAME", help="Account on the hub [env FACELINK_USERNAME].")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="File whose first line is the password [default: ask].")
@click.option("--device", type=click.IntRange(min=0), help="SOURCE: webcam number (0 is the first camera).")
@click.option("--video", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="SOURCE: a video file.")
@click.option("--folder", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="SOURCE: a folder of photos, sent in name order.")
@click.option("--loop", is_flag=True, help="Start the folder or video over at its end.")
@click.option("--interval", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Seconds between frames; never sends faster.")
@click.option("--threshold", type=click.FloatRange(0, 255), default=3.0, show_default=True,
              help="Skip a frame whose mean grey-level difference from the last one is below this (0: send all).")
@click.option("--queue-size", type=click.IntRange(min=1), default=8, show_default=True,
              help="Frames kept while the hub is unreachable (the newest).")
@click.option("--max-backoff", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Longest wait between retries when the hub is unreachable, in seconds.")
@click.option("--give-up-after", type=click.FloatRange(min=0), default=0, show_default=True,
              help="Exit when the hub stays unreachable this many seconds (0: keep trying).")
def camera(url: str, username: str, password_file: Path | None, device: int | None, video: Path | None,
           folder: Path | None, loop: bool, interval: float, threshold: float, queue_size: int,
           max_backoff: float, give_up_after: float) -> None:
    """Feed frames from a webcam, a video or a folder of photos to a hub, and print what it saw.

    Exit codes: 0 done (or stopped by SIGTERM), 1 error, 2 usage, 3 login refused,
    4 hub unreachable for longer than --give-up-after, 130 Ctrl+C.
    """
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter("must start with http:// or https://, e.g. http://127.0.0.1:5055", param_hint="--url")
    chosen = [name for name, value in (("--device", device), ("--video", video), ("--folder", folder))
              if value is not None]
    if len(chosen) != 1:
        raise click.UsageError("choose one source: --device N, --video FILE or --folder DIR")
    if loop and device is not None:
        raise click.UsageError("--loop applies to --video and --folder")
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        password = lines[0] if lines else ""
        if not password:
            raise click.UsageError(f"{password_file} is empty: its first line must be the password")
    else:
        password = click.prompt("Password", hide_input=True)

    from .camera import CameraClient, DeviceSource, FolderSource, VideoSource
    from .camera.command import run_camera

    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    if folder is not None:
        source = FolderSource(folder, loop=loop)
    elif video is not None:
        source = VideoSource(video, every=interval, loop=loop)
    else:
        source = DeviceSource(device)
    client = CameraClient(url, username, password)
    code = run_camera(client, source, interval=interval, threshold=threshold, queue_size=queue_size,
                      give_up_after=give_up_after or None, max_backoff=max_backoff)
    click.get_current_context().exit(code)


if __name__ == "__main__":
    main()
