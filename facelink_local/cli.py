"""`facelink`: serve the API, and look after the hub's data."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from . import __version__
from .config import DEFAULT_PORT, Settings, default_data_dir


def settings_from(data_dir: Path | None, **changes) -> Settings:
    return Settings(data_dir=Path(data_dir) if data_dir else default_data_dir(), **changes)


data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), envvar="FACELINK_DATA_DIR",
    default=None, help="Where the database and keys live [env FACELINK_DATA_DIR; default: the user data folder].",
)
engine_option = click.option(
    "--engine", type=click.Choice(["dlib"]), default="dlib", envvar="FACELINK_ENGINE", show_default=True,
    help="Face engine [env FACELINK_ENGINE].",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="facelink")
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
def main(verbose: bool) -> None:
    """FaceLink Local: an offline face-recognition hub for a haptic wearable."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--host", default="0.0.0.0", envvar="FACELINK_HOST", show_default=True,
              help="Interface to listen on [env FACELINK_HOST].")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, envvar="FACELINK_PORT",
              show_default=True, help="TCP port [env FACELINK_PORT].")
@data_dir_option
@engine_option
def serve(host: str, port: int, data_dir: Path | None, engine: str) -> None:
    """Serve the REST API to the wearable camera and LAN devices."""
    from .api import create_app
    from .hub import Hub
    from .server import lan_urls, serve_forever

    hub = Hub(settings_from(data_dir, host=host, port=port, engine=engine))
    app = create_app(hub)
    click.echo(f"FaceLink Local {__version__}: data in {hub.settings.data_dir}")
    click.echo(f"Face engine: {hub.engine.id}")
    click.echo("Devices on your network can reach the hub at:")
    for url in lan_urls(host, port):
        click.echo(f"  {url}")
    try:
        serve_forever(app, host, port)
    finally:
        hub.close()


@main.command("rotate-secret")
@data_dir_option
def rotate_secret(data_dir: Path | None) -> None:
    """Replace the token signing secret: every issued token stops working, also on a running hub."""
    from .auth.tokens import write_secret
    from .hub import prepare_data_dir

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
    from .hub import Hub

    hub = Hub(settings_from(data_dir, engine=engine))
    try:
        user_id = hub.accounts.user_id_for(username)
        if user_id is None:
            raise click.ClickException(f"no user named {username!r}")
        clusters = hub.timeline.recluster(user_id)
        click.echo(f"{username}: {clusters} clusters")
    finally:
        hub.close()


if __name__ == "__main__":
    main()
