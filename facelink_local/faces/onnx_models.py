"""dlib's ResNet face descriptor, converted to ONNX and run by onnxruntime.

`build_model()` turns the network read by `dlib_dnn.read_network()` into an
ONNX graph, layer for layer: the graph takes the same (N, 150, 150, 3) uint8
RGB chips as dlib and does dlib's input normalisation itself, so callers pass
chips unchanged. onnxruntime folds each affine layer into its convolution when
it loads the graph.

The graph is built once per `.dat` file and cached as
`dlib_resnet_v1-<sha256 of the .dat>[:16].onnx`. A file of that name shipped in
`facelink_local/faces/models/` (a packaged app builds it ahead of time) is
used first; otherwise `<cache_dir>/models/` is used, built there if missing.
A file is trusted only if the full hash recorded inside it matches the `.dat`.

    python -m facelink_local.faces.onnx_models DEST_DIR   # build into DEST_DIR
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from .base import FaceModel
from .dlib_dnn import (
    INPUT_SIZE,
    Affine,
    AddPrev,
    AvgPool,
    Conv,
    DlibNetwork,
    FullyConnected,
    MaxPool,
    Relu,
    Skip,
    Tag,
    read_network,
)
from .dlib_models import model_path
from .schemas import CHIP_SIZE, EMBEDDING_DIM

log = logging.getLogger(__name__)

DAT_FILENAME = "dlib_face_recognition_resnet_model_v1.dat"
MODEL_STEM = "dlib_resnet_v1"
PACKAGED_MODELS_DIR = Path(__file__).parent / "models"
INPUT_NAME = "chips"
OUTPUT_NAME = "descriptors"
OPSET = 17
IR_VERSION = 8  # opset 17; loadable by every onnxruntime since 1.13
HASH_KEY = "dlib_dat_sha256"
# Threads per run. Two uploads may run at once (FaceEngine max_concurrent=2) on
# two cores; bench/bench_engines.py measures 1 against 2 (docs/engines.md).
DEFAULT_INTRA_OP_THREADS = 1


# ---------------------------------------------------------------------------
# Graph


class _GraphBuilder:
    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._names: dict[str, int] = {}

    def name(self, base: str) -> str:
        n = self._names.get(base, 0)
        self._names[base] = n + 1
        return f"{base}_{n}"

    def const(self, base: str, array: NDArray) -> str:
        from onnx import numpy_helper

        name = self.name(base)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], base: str | None = None, **attrs) -> str:
        from onnx import helper

        out = self.name(base or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out


def build_model(network: DlibNetwork) -> Any:
    """The ONNX model of `network`: uint8 chips (N, 150, 150, 3) -> float32 (N, 128)."""
    from onnx import TensorProto, checker, helper

    g = _GraphBuilder()
    # Input layer: dlib reads pixel (r, c) into planes R, G, B as (value - mean) / 256.
    x = g.op("Cast", [INPUT_NAME], "chips_float", to=TensorProto.FLOAT)
    x = g.op("Transpose", [x], "planes", perm=[0, 3, 1, 2])
    means = np.asarray(network.input.means, np.float32).reshape(1, 3, 1, 1)
    x = g.op("Sub", [x, g.const("input_mean", means)], "centred")
    x = g.op("Mul", [x, g.const("input_scale", np.float32(1 / 256))], "input")

    shape = (3, INPUT_SIZE, INPUT_SIZE)  # (channels, rows, cols) of x
    tags: dict[int, tuple[str, tuple[int, int, int]]] = {}
    for layer in network.layers:
        if isinstance(layer, Conv):
            out_ch, _, k, _ = layer.weight.shape
            p = layer.padding
            x = g.op("Conv", [x, g.const("conv_w", layer.weight), g.const("conv_b", layer.bias)], "conv",
                     kernel_shape=[k, k], strides=[layer.stride] * 2, pads=[p] * 4)
            shape = (out_ch, _pooled(shape[1], k, layer.stride, p), _pooled(shape[2], k, layer.stride, p))
        elif isinstance(layer, Affine):
            c = layer.gamma.size
            x = g.op("Mul", [x, g.const("affine_scale", layer.gamma.reshape(c, 1, 1))], "affine_mul")
            x = g.op("Add", [x, g.const("affine_shift", layer.beta.reshape(c, 1, 1))], "affine")
        elif isinstance(layer, Relu):
            x = g.op("Relu", [x], "relu")
        elif isinstance(layer, MaxPool | AvgPool) and layer.size == 0:
            x = g.op("GlobalAveragePool", [x], "global_avg_pool")
            shape = (shape[0], 1, 1)
        elif isinstance(layer, MaxPool | AvgPool):
            kind = "MaxPool" if isinstance(layer, MaxPool) else "AveragePool"
            k, s, p = layer.size, layer.stride, layer.padding
            x = g.op(kind, [x], kind.lower(), kernel_shape=[k, k], strides=[s, s], pads=[p] * 4)
            shape = (shape[0], _pooled(shape[1], k, s, p), _pooled(shape[2], k, s, p))
        elif isinstance(layer, Tag):
            tags[layer.id] = (x, shape)
        elif isinstance(layer, Skip):
            x, shape = tags[layer.tag]
        elif isinstance(layer, AddPrev):
            other, other_shape = tags[layer.tag]
            target = tuple(max(a, b) for a, b in zip(shape, other_shape))
            x = g.op("Add", [_zero_pad(g, x, shape, target), _zero_pad(g, other, other_shape, target)], "add_prev")
            shape = target
        elif isinstance(layer, FullyConnected):
            x = g.op("Flatten", [x], "flatten", axis=1)
            x = g.op("MatMul", [x, g.const("fc_w", layer.weight)], "fc")
            if layer.bias is not None:
                x = g.op("Add", [x, g.const("fc_b", layer.bias)], "fc_bias")
            shape = (layer.weight.shape[1],)
        else:  # pragma: no cover - the reader only makes the kinds above
            raise TypeError(f"no ONNX conversion for {type(layer).__name__}")

    g.nodes.append(helper.make_node("Identity", [x], [OUTPUT_NAME], name=OUTPUT_NAME))
    graph = helper.make_graph(
        g.nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.UINT8, ["N", CHIP_SIZE, CHIP_SIZE, 3])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", shape[0]])],
        g.initializers,
    )
    model = helper.make_model(
        graph,
        producer_name="facelink_local",
        doc_string="dlib_face_recognition_resnet_model_v1 (dlib's ResNet face descriptor), converted layer for "
                   "layer. Input: 150x150 RGB chips from dlib.get_face_chip (5 points, padding 0.25).",
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = IR_VERSION
    helper.set_model_props(model, {HASH_KEY: network.source_sha256})
    checker.check_model(model)
    return model


def _zero_pad(g: _GraphBuilder, x: str, shape: tuple[int, ...], target: tuple[int, ...]) -> str:
    """dlib's add_prev: a smaller tensor counts as zeros past its end (channels, bottom, right)."""
    if shape == target:
        return x
    extra = [t - s for s, t in zip(shape, target)]
    pads = np.asarray([0, 0, 0, 0, 0, *extra], np.int64)  # begins (N, C, H, W), then ends
    return g.op("Pad", [x, g.const("pads", pads)], "zero_pad", mode="constant")


def _pooled(size: int, kernel: int, stride: int, padding: int) -> int:
    return 1 + (size + 2 * padding - kernel) // stride


# ---------------------------------------------------------------------------
# Cache


_hash_cache: dict[tuple[str, int, int], str] = {}
_build_lock = threading.Lock()


def file_sha256(path: Path) -> str:
    """sha256 of a file, remembered per (path, size, mtime) for this process."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _hash_cache:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        _hash_cache[key] = digest.hexdigest()
    return _hash_cache[key]


def model_filename(dat_sha256: str) -> str:
    return f"{MODEL_STEM}-{dat_sha256[:16]}.onnx"


def recorded_hash(path: Path) -> str | None:
    """The .dat hash stored in an ONNX file's metadata, or None if unreadable."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # a truncated or foreign file: rebuilt by the caller
        return None
    return {p.key: p.value for p in model.metadata_props}.get(HASH_KEY)


def build_file(dest_dir: Path, dat_path: Path | None = None, private: bool = False) -> Path:
    """Convert the .dat and write `<dest_dir>/<model_filename>` atomically.

    Public weights in another format: readable by all, as an installed app's files must be;
    `private` for a copy in a data folder, where everything is the owner's only."""
    import onnx

    dat_path = dat_path or model_path(DAT_FILENAME)
    network = read_network(dat_path)
    model = build_model(network)
    dest_dir.mkdir(mode=0o700 if private else 0o755, parents=True, exist_ok=True)
    target = dest_dir / model_filename(network.source_sha256)
    fd, tmp = tempfile.mkstemp(prefix=target.stem + ".", suffix=".tmp", dir=dest_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(model.SerializeToString())
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600 if private else 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("built %s from %s", target, dat_path)
    return target


def build_or_load(cache_dir: Path | str, dat_path: Path | None = None,
                  packaged_dir: Path = PACKAGED_MODELS_DIR) -> Path:
    """Path of the ONNX descriptor for the installed .dat, building it if needed."""
    dat_path = dat_path or model_path(DAT_FILENAME)
    dat_hash = file_sha256(dat_path)
    name = model_filename(dat_hash)
    packaged = packaged_dir / name
    if packaged.is_file() and recorded_hash(packaged) == dat_hash:
        return packaged
    cached = Path(cache_dir) / "models" / name
    with _build_lock:
        if cached.is_file() and recorded_hash(cached) == dat_hash:
            return cached
        if cached.exists():
            log.warning("rebuilding %s: it does not match %s", cached, dat_path)
        built = build_file(cached.parent, dat_path, private=True)
    if built != cached:  # the .dat changed between hashing and reading
        raise RuntimeError(f"{dat_path} changed while converting it")
    return cached


def default_cache_dir() -> Path:
    import platformdirs

    return platformdirs.user_cache_path("facelink-local", appauthor=False)


# ---------------------------------------------------------------------------
# Embedder


class Session(Protocol):
    """What the embedder needs of an onnxruntime.InferenceSession (stubbed in tests)."""

    def run(self, output_names: list[str] | None, input_feed: dict[str, Any]) -> list[Any]: ...


def ort_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


class OnnxResNetEmbedder(FaceModel):
    """dlib's ResNet face descriptor on onnxruntime, equal to dlib's within 1e-4.

    Threads are pinned: `intra_op_threads` per run, one inter-op thread,
    sequential execution, and no spinning (waiting pool threads would burn the
    core that another upload needs).
    """

    def __init__(self, cache_dir: Path | str | None = None, intra_op_threads: int = DEFAULT_INTRA_OP_THREADS,
                 session: Session | None = None, dat_path: Path | None = None) -> None:
        super().__init__()
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.intra_op_threads = intra_op_threads
        self.dat_path = dat_path or model_path(DAT_FILENAME)
        self._session = session
        self.model_file: Path | None = None
        self.identity = f"onnx-dlib-resnet-v1-{file_sha256(self.dat_path)[:8]}-ort{ort_version()}"

    def _load(self) -> Session:
        if self._session is not None:
            return self._session
        import onnxruntime as ort

        self.model_file = build_or_load(self.cache_dir, self.dat_path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.intra_op_threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        return ort.InferenceSession(str(self.model_file), options, providers=["CPUExecutionProvider"])

    def embed(self, chips: NDArray[np.uint8]) -> NDArray[np.float32]:
        """(N, 150, 150, 3) RGB chips -> (N, 128) descriptors."""
        if len(chips) == 0:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        chips = np.ascontiguousarray(chips, dtype=np.uint8)
        if chips.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3):
            raise ValueError(f"chips must be (N, {CHIP_SIZE}, {CHIP_SIZE}, 3), got {chips.shape}")
        (descriptors,) = self.load().run([OUTPUT_NAME], {INPUT_NAME: chips})
        return np.asarray(descriptors, dtype=np.float32)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: python -m {__spec__.name if __spec__ else 'onnx_models'} DEST_DIR", file=sys.stderr)
        return 2
    print(build_file(Path(args[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
