"""Smoke test of the packaged app: runs dist/FaceLink/facelink the way a user would.

    .venv/bin/python scripts/smoke_package.py [--app dist/FaceLink] [--faces ../shared/faces]

Steps (each prints "ok" or "FAIL" with what the app printed; exit status 1 on
the first failure):

 1. contents: the two dlib models the engine loads, the prebuilt ONNX
    descriptor named after the shipped .dat's hash; no 68-point landmark
    model, no CNN detector, no test tools;
 2. every command's --help is the Python entry point's (same options);
 3. `facelink serve --engine dlib` on 127.0.0.1: /health, register, a one-face photo
    gives one unknown face, the timeline groups two people apart, a named
    group is recognized in a new photo;
 4. `facelink camera` feeds that hub from a folder and from a video;
 5. SIGTERM stops the hub; `facelink recluster` regroups its faces;
 6. `facelink serve --engine onnx` answers the same with the shipped model,
    building nothing in the data folder;
 7. `facelink` with no arguments: the desktop app where there is one, else
    a clear notice and the hub headless (here: no display, so headless);
 8. `facelink gui`, when the build has it, starts on Qt's offscreen platform.

The app's processes run in their own process groups and are killed on any
failure or interruption. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # this checkout's facelink_local, as the bundle was built from it
_spec = importlib.util.spec_from_file_location("bundle_rules", REPO / "packaging" / "bundle_rules.py")
rules = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rules)
PASSWORD = "smoke test password"
START_TIMEOUT_S = 120   # a cold start imports scipy, OpenCV and the models from disk
STOP_TIMEOUT_S = 30
COMMAND_TIMEOUT_S = 180
GUI_RUN_S = 10          # long enough to import Qt and show the window
NEEDED_MODELS = set(rules.NEEDED_MODELS)
FORBIDDEN_FILES = set(rules.FORBIDDEN_FILES)
FORBIDDEN_MODULES = set(rules.FORBIDDEN_MODULES)
# People of shared/faces/identities whose photos are one clear face each.
PERSON_A, PERSON_B = "colin_powell", "tony_blair"


class SmokeFailure(Exception):
    pass


def check(condition: object, message: str, *, log: Path | None = None) -> None:
    if not condition:
        if log is not None and log.exists():
            lines = log.read_text(errors="replace").splitlines()
            print(f"--- last lines of {log.name} ---", *lines[-60:], "---", sep="\n", file=sys.stderr)
        raise SmokeFailure(message)


def ok(message: str) -> None:
    print(f"ok    {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(argv: list[str], env: dict[str, str] | None = None, timeout: float = COMMAND_TIMEOUT_S,
        ) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise SmokeFailure(f"{' '.join(argv[:3])}... did not finish in {timeout:.0f} s; it printed:\n"
                           f"{exc.stdout or ''}{exc.stderr or ''}") from None


def app_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACELINK_")}
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):  # headless, whatever the caller has
        env.pop(name, None)
    env["COLUMNS"] = "100"  # the same --help layout for both entry points
    env.update(extra)
    return env


class Hub:
    """A packaged `facelink` process serving on 127.0.0.1, with its output in a log file."""

    def __init__(self, argv: list[str], log: Path, port: int, env: dict[str, str]) -> None:
        self.log = log
        self.url = f"http://127.0.0.1:{port}"
        self._log_file = log.open("w")
        self.process = subprocess.Popen(argv, stdout=self._log_file, stderr=subprocess.STDOUT, env=env,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        self.http = httpx.Client(base_url=self.url, timeout=60)

    def wait_healthy(self) -> dict:
        self.started_after = None
        start = time.monotonic()
        deadline = start + START_TIMEOUT_S
        while time.monotonic() < deadline:
            check(self.process.poll() is None, f"the app exited with {self.process.returncode} while starting",
                  log=self.log)
            try:
                response = self.http.get("/health", timeout=2)
                if response.status_code == 200:
                    self.started_after = time.monotonic() - start
                    return response.json()
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        check(False, f"no answer on {self.url}/health within {START_TIMEOUT_S} s", log=self.log)

    def stop(self) -> int:
        """SIGTERM, as a service manager would; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            check(False, f"the app did not stop within {STOP_TIMEOUT_S} s of SIGTERM", log=self.log)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def close(self) -> None:
        self.kill()
        self.http.close()
        self._log_file.close()


@contextmanager
def hub(app: Path, args: list[str], work: Path, name: str, **env: str) -> Iterator[Hub]:
    port = free_port()
    if args:
        args = [*args, "--host", "127.0.0.1", "--port", str(port)]
    else:  # no arguments at all: the same settings through the environment
        env = {**env, "FACELINK_HOST": "127.0.0.1", "FACELINK_PORT": str(port)}
    running = Hub([str(app), *args], work / f"{name}.log", port, app_env(**env))
    try:
        yield running
    finally:
        running.close()


class Account:
    def __init__(self, running: Hub, username: str = "smoke") -> None:
        self.running = running
        response = running.http.post("/api/v1/register", json={"username": username, "password": PASSWORD})
        check(response.status_code == 200, f"register answered {response.status_code}: {response.text}",
              log=running.log)
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def upload(self, photo: Path) -> dict:
        response = self.running.http.post("/api/v1/upload_image", content=photo.read_bytes(), headers={
            **self.headers, "Content-Type": "application/octet-stream"})
        check(response.status_code == 200, f"upload of {photo.name} answered {response.status_code}: {response.text}",
              log=self.running.log)
        body = response.json()
        check(body.get("message") == "Image uploaded successfully", f"upload of {photo.name}: {body}",
              log=self.running.log)
        return body

    def get(self, path: str):
        response = self.running.http.get(path, headers=self.headers)
        check(response.status_code == 200, f"{path} answered {response.status_code}: {response.text}",
              log=self.running.log)
        return response.json()

    def post(self, path: str, body: dict) -> dict:
        response = self.running.http.post(path, json=body, headers=self.headers)
        check(response.status_code == 200, f"{path} answered {response.status_code}: {response.text}",
              log=self.running.log)
        return response.json()


def statuses(body: dict) -> list[str]:
    return [face["status"] for face in body["faces"]]


# ---------------------------------------------------------------------------
# Steps


def check_contents(bundle: Path) -> None:
    from PyInstaller.archive.readers import CArchiveReader

    from facelink_local.faces.onnx_models import file_sha256, model_filename

    internal = bundle / "_internal"
    names = {p.name for p in bundle.rglob("*")}
    present = FORBIDDEN_FILES & names
    check(not present, f"the bundle carries {sorted(present)}")
    models = internal / "face_recognition_models" / "models"
    shipped = {p.name for p in models.iterdir()} if models.is_dir() else set()
    check(shipped == NEEDED_MODELS, f"{models} holds {sorted(shipped)}, not {sorted(NEEDED_MODELS)}")
    onnx = internal / "facelink_local" / "faces" / "models" / model_filename(
        file_sha256(models / "dlib_face_recognition_resnet_model_v1.dat"))
    check(onnx.is_file(), f"no prebuilt ONNX descriptor at {onnx}")
    pyz = CArchiveReader(str(bundle / executable_name())).open_embedded_archive("PYZ.pyz")
    bundled = {name.split(".")[0] for name in pyz.toc} | {p.name.split(".")[0] for p in internal.iterdir()}
    extra = FORBIDDEN_MODULES & bundled
    check(not extra, f"the bundle carries {sorted(extra)}")
    ok(f"contents: {', '.join(sorted(shipped))}, {onnx.name}; no {', '.join(sorted(FORBIDDEN_FILES))}; "
       f"no test or build tools")


def check_help(app: Path) -> None:
    from facelink_local.cli import main

    # The Python entry point, run from this checkout as the bundle runs it.
    python_entry = [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO)!r}); "
                    "from facelink_local.cli import main; main(prog_name='facelink')"]
    env = app_env()
    for command in [[], *([name] for name in sorted(main.commands))]:
        packaged = run([str(app), *command, "--help"], env)
        check(packaged.returncode == 0, f"facelink {' '.join(command)} --help exited {packaged.returncode}:\n"
                                        f"{packaged.stdout}{packaged.stderr}")
        reference = run([*python_entry, *command, "--help"], env)
        check(packaged.stdout == reference.stdout,
              f"facelink {' '.join(command)} --help differs from the Python entry point's:\n"
              f"{packaged.stdout}\n--- Python entry point ---\n{reference.stdout}")
    version = run([str(app), "--version"], env)
    check(version.returncode == 0 and "facelink" in version.stdout, f"--version: {version.stdout}{version.stderr}")
    ok(f"help of {len(main.commands)} commands as the Python entry point's; {version.stdout.strip()}")


def make_video(photo: Path, dest: Path, seconds: float = 2.0, fps: int = 5) -> Path:
    import cv2

    image = cv2.imread(str(photo))
    writer = cv2.VideoWriter(str(dest), cv2.VideoWriter_fourcc(*"MJPG"), fps, (image.shape[1], image.shape[0]))
    for _ in range(int(seconds * fps)):
        writer.write(image)
    writer.release()
    check(dest.stat().st_size > 0, f"could not write a test video {dest}")
    return dest


def check_dlib_hub(app: Path, work: Path, faces: Path) -> Path:
    a = sorted((faces / "identities" / PERSON_A).glob("*.jpg"))
    b = sorted((faces / "identities" / PERSON_B).glob("*.jpg"))
    check(len(a) >= 6 and len(b) >= 4, f"need 6 photos of {PERSON_A} and 4 of {PERSON_B} in {faces}")
    data = work / "data-dlib"
    with hub(app, ["serve", "--engine", "dlib", "--data-dir", str(data)], work, "serve-dlib") as running:
        health = running.wait_healthy()
        check(health.get("status") == "ok", f"/health: {health}", log=running.log)
        ok(f"serve: /health {health} {running.started_after:.1f} s after start")
        account = Account(running)

        first = account.upload(a[0])
        check(statuses(first) == ["unknown"], f"a one-face photo gave {first}", log=running.log)
        ok(f"upload: one unknown face in {PERSON_A}/{a[0].name}: box {first['faces'][0]['box']}")

        uploaded = [PERSON_A]
        for photo in [*a[1:3], *b[:3]]:
            body = account.upload(photo)
            check(statuses(body) == ["unknown"], f"{photo.parent.name}/{photo.name} gave {body}", log=running.log)
            uploaded.append(photo.parent.name)
        timeline = account.get("/api/v1/pull_timeline")
        stamps = sorted((stamp, cluster) for cluster, times in timeline.items() for stamp in times)
        check(len(stamps) == len(uploaded), f"timeline holds {len(stamps)} faces, not {len(uploaded)}: {timeline}")
        people: dict[str, set[str]] = {}
        for (_, cluster), person in zip(stamps, uploaded):
            people.setdefault(cluster, set()).add(person)
        check(all(len(p) == 1 for p in people.values()), f"a group mixes the two people: {people}")
        ok(f"timeline: {len(uploaded)} faces of 2 people in {len(timeline)} groups, none mixed")

        cluster_a = stamps[0][1]
        contact = account.post("/api/v1/create_contact", {"cluster_id": cluster_a, "contact_name": "Colin Powell"})
        later = account.upload(a[3])
        matched = [f for f in later["faces"] if f["status"] == "matched"]
        check(len(later["faces"]) == 1 and matched and matched[0]["contact"]["cid"] == contact["cid"],
              f"a new photo of the named person gave {later}", log=running.log)
        ok(f"recognition: {PERSON_A}/{a[3].name} matched contact {contact['cid']} at {matched[0]['distance']:.2f}")

        password_file = work / "password"
        password_file.write_text(PASSWORD + "\n")
        folder = work / "frames"
        folder.mkdir()
        shutil.copy(a[4], folder / "01.jpg")
        shutil.copy(b[3], folder / "02.jpg")
        feed = ["camera", "--url", running.url, "--username", "smoke", "--password-file", str(password_file),
                "--interval", "0", "--give-up-after", "30"]
        fed = run([str(app), *feed, "--folder", str(folder)], app_env())
        check(fed.returncode == 0 and "Colin Powell" in fed.stdout,
              f"camera --folder exited {fed.returncode}:\n{fed.stdout}{fed.stderr}", log=running.log)
        ok(f"camera --folder: {fed.stdout.strip().splitlines()[-1]}")
        video = make_video(b[3], work / "clip.avi")
        fed = run([str(app), *feed, "--video", str(video)], app_env())
        check(fed.returncode == 0 and "frame 1" in fed.stdout,
              f"camera --video exited {fed.returncode}:\n{fed.stdout}{fed.stderr}", log=running.log)
        ok(f"camera --video: {fed.stdout.strip().splitlines()[-1]}")

        code = running.stop()
        check(code == 0, f"after SIGTERM the app exited {code}", log=running.log)
        ok("stop: SIGTERM, exit status 0")

    regrouped = run([str(app), "recluster", "--username", "smoke", "--data-dir", str(data)], app_env())
    check(regrouped.returncode == 0 and "clusters" in regrouped.stdout,
          f"recluster exited {regrouped.returncode}:\n{regrouped.stdout}{regrouped.stderr}")
    ok(f"recluster: {regrouped.stdout.strip().splitlines()[-1]}")
    return a[0]


def check_onnx_hub(app: Path, work: Path, photo: Path) -> None:
    data, home = work / "data-onnx", work / "home-onnx"
    home.mkdir()
    with hub(app, ["serve", "--engine", "onnx", "--data-dir", str(data)], work, "serve-onnx",
             HOME=str(home), XDG_CACHE_HOME=str(home / ".cache")) as running:
        running.wait_healthy()
        body = Account(running).upload(photo)
        check(statuses(body) == ["unknown"], f"a one-face photo gave {body}", log=running.log)
        built = sorted(p.name for p in (data / "models").glob("*")) if (data / "models").exists() else []
        check(not built, f"the ONNX engine built {built} in the data folder instead of using the shipped model",
              log=running.log)
        engine = next((line for line in running.log.read_text().splitlines() if "Face engine" in line), "")
        check("onnx" in engine, f"the app did not report the ONNX engine: {engine!r}", log=running.log)
        code = running.stop()
        check(code == 0, f"after SIGTERM the app exited {code}", log=running.log)
        left = [str(p.relative_to(home)) for p in home.rglob("*")]
        check(not left, f"the app wrote outside its data folder (onnxruntime telemetry?): {left}", log=running.log)
    ok(f"serve --engine onnx: one unknown face, the shipped model used, nothing written outside the data folder "
       f"({engine.split(': ', 1)[-1][-40:]})")


def check_no_arguments(app: Path, work: Path) -> None:
    with hub(app, [], work, "no-arguments", FACELINK_DATA_DIR=str(work / "data-default")) as running:
        running.wait_healthy()
        code = running.stop()
        output = running.log.read_text()
        check(code == 0, f"after SIGTERM the app exited {code}", log=running.log)
        notice = output.splitlines()[0] if output else ""
        check("headless" in notice, f"no notice that it serves headless: {notice!r}", log=running.log)
    ok(f"no arguments, no display: {notice}")


def check_desktop_app(app: Path, work: Path) -> None:
    """`facelink gui` on Qt's offscreen platform: it must start (load Qt and its plugins) without an error."""
    from facelink_local.cli import main

    if "gui" not in main.commands:
        ok("gui: the desktop app is not part of this checkout")
        return
    log = work / "gui.log"
    env = app_env(QT_QPA_PLATFORM="offscreen", FACELINK_HOST="127.0.0.1", FACELINK_PORT=str(free_port()),
                  FACELINK_DATA_DIR=str(work / "data-gui"))
    with log.open("w") as out:
        process = subprocess.Popen([str(app), "gui"], stdout=out, stderr=subprocess.STDOUT, env=env,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            code = process.wait(GUI_RUN_S)
        except subprocess.TimeoutExpired:
            code = None  # still running, as a desktop app does
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    output = log.read_text(errors="replace")
    check(code in (None, 0), f"facelink gui exited {code}", log=log)
    check("Traceback" not in output and "Could not load the Qt platform plugin" not in output,
          "facelink gui reported an error", log=log)
    ok(f"gui: {'ran ' + str(GUI_RUN_S) + ' s' if code is None else 'ran and quit'} on the offscreen platform")


def executable_name() -> str:
    return rules.EXECUTABLE + (".exe" if sys.platform == "win32" else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", type=Path, default=REPO / "dist" / "FaceLink", help="the one-folder bundle")
    parser.add_argument("--faces", type=Path,
                        default=Path(os.environ.get("FACELINK_SHARED_FACES", REPO.parent / "shared" / "faces")),
                        help="the shared photo set [env FACELINK_SHARED_FACES]")
    args = parser.parse_args(argv)
    app = args.app / executable_name()
    if not app.is_file():
        print(f"FAIL  no packaged app at {app}: build it with `make package`", file=sys.stderr)
        return 1
    if not (args.faces / "identities").is_dir():
        print(f"FAIL  the shared photo set is not at {args.faces} (set FACELINK_SHARED_FACES)", file=sys.stderr)
        return 1
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="facelink-smoke-") as tmp:
        work = Path(tmp)
        try:
            check_contents(args.app)
            check_help(app)
            photo = check_dlib_hub(app, work, args.faces)
            check_onnx_hub(app, work, photo)
            check_no_arguments(app, work)
            check_desktop_app(app, work)
        except SmokeFailure as failure:
            print(f"FAIL  {failure}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
    print(f"packaged app smoke test OK ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
