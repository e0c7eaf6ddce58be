"""Read dlib's serialized face descriptor network into numpy arrays.

dlib saves a network by recursion over its C++ type: the outermost layer
writes its version number, then its whole sub-network, then its own details.
The file therefore holds every layer's version number first (loss layer
outermost), then the input layer, then each layer's parameters from the input
outwards. Tag and skip layers write only a version number, so the file alone
cannot tell which tag an `add_prev` refers to: as in dlib, the network type
supplies it. `FACE_DESCRIPTOR_ARCHITECTURE` spells out the type of
`dlib_face_recognition_resnet_model_v1` (`anet_type` in dlib's
`tools/python/src/face_recognition.cpp`), and `read_network()` checks every
layer of the file against it.

Encodings (dlib/serialize.h): integers are one control byte (low 4 bits: how
many little-endian bytes follow, bit 0x80: negative) then the bytes; a float
is its mantissa then its base-2 exponent, both as integers; a bool is the
byte '1' or '0'; a string is its length then its bytes; a tensor is a version,
four dimensions (samples, channels, rows, columns) and little-endian float32s.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray


class DlibFormatError(ValueError):
    """The file is not the dlib network this reader expects."""


# ---------------------------------------------------------------------------
# Layers, in the order data flows through them (input first)


@dataclass(frozen=True)
class InputRGB:
    """`input_rgb_image_sized`: (pixel - mean) / 256 per channel, planes R, G, B."""

    means: tuple[float, float, float]
    rows: int
    cols: int


@dataclass(frozen=True)
class Conv:
    """`con_`: cross-correlation with bias; weight is (out, in, rows, cols)."""

    weight: NDArray[np.float32]
    bias: NDArray[np.float32]
    stride: int
    padding: int


@dataclass(frozen=True)
class Affine:
    """`affine_` in conv mode: a per-channel scale and shift (batch norm, frozen)."""

    gamma: NDArray[np.float32]
    beta: NDArray[np.float32]


@dataclass(frozen=True)
class Relu:
    pass


@dataclass(frozen=True)
class MaxPool:
    size: int
    stride: int
    padding: int


@dataclass(frozen=True)
class AvgPool:
    """`avg_pool_`; size 0 averages each channel over the whole image."""

    size: int
    stride: int
    padding: int


@dataclass(frozen=True)
class Tag:
    """`tagN`: remembers the output of the layer below it."""

    id: int


@dataclass(frozen=True)
class Skip:
    """`skipN`: continues from tag N's output instead of the layer below."""

    tag: int


@dataclass(frozen=True)
class AddPrev:
    """`add_prevN`: adds tag N's output to the layer below's output.

    When the shapes differ the result has the larger size in every dimension
    and the smaller tensor is zero-padded at the end (more channels, then rows
    and columns at the bottom and right).
    """

    tag: int


@dataclass(frozen=True)
class FullyConnected:
    """`fc_`: output = input (N, in) @ weight (in, out) [+ bias]."""

    weight: NDArray[np.float32]
    bias: NDArray[np.float32] | None


@dataclass(frozen=True)
class LossMetric:
    """`loss_metric_`: at inference the descriptor is the previous layer's output as is."""

    margin: float
    distance_threshold: float


Layer = Conv | Affine | Relu | MaxPool | AvgPool | Tag | Skip | AddPrev | FullyConnected


@dataclass(frozen=True)
class DlibNetwork:
    input: InputRGB
    layers: list[Layer]
    loss: LossMetric
    source_sha256: str = ""

    def parameter_count(self) -> int:
        total = 0
        for layer in self.layers:
            if isinstance(layer, Conv):
                total += layer.weight.size + layer.bias.size
            elif isinstance(layer, Affine):
                total += layer.gamma.size + layer.beta.size
            elif isinstance(layer, FullyConnected):
                total += layer.weight.size + (0 if layer.bias is None else layer.bias.size)
        return total

    def count(self, kind: type) -> int:
        return sum(isinstance(layer, kind) for layer in self.layers)


# ---------------------------------------------------------------------------
# The network type: which layers, in which order, with which fixed settings


@dataclass(frozen=True)
class Spec:
    """One layer of the expected type: its kind and its compile-time settings."""

    kind: str  # "con", "affine", "relu", "max_pool", "avg_pool", "tag", "skip", "add_prev", "fc"
    filters: int = 0
    size: int = 0
    stride: int = 1
    id: int = 0
    bias: bool = True

    @property
    def padding(self) -> int:
        # dlib's default for con_, max_pool_ and avg_pool_: size/2 at stride 1, none otherwise.
        return self.size // 2 if self.stride == 1 else 0


def _residual_block(filters: int, downsample: bool) -> list[Spec]:
    """dlib's `ares` / `ares_down`: two 3x3 convs, each with an affine, added to the input.

    The down block's first conv has stride 2 and its shortcut is a 2x2/2
    average pool of the block's input (tag1 -> ... tag2, skip1, avg_pool, add_prev2).
    """
    stride = 2 if downsample else 1
    body = [
        Spec("tag", id=1),
        Spec("con", filters, 3, stride),
        Spec("affine"),
        Spec("relu"),
        Spec("con", filters, 3, 1),
        Spec("affine"),
    ]
    if downsample:
        tail = [Spec("tag", id=2), Spec("skip", id=1), Spec("avg_pool", size=2, stride=2), Spec("add_prev", id=2)]
    else:
        tail = [Spec("add_prev", id=1)]
    return body + tail + [Spec("relu")]


def _face_descriptor_architecture() -> list[Spec]:
    layers = [Spec("con", 32, 7, 2), Spec("affine"), Spec("relu"), Spec("max_pool", size=3, stride=2)]
    stages = [(32, 3, False), (64, 4, True), (128, 3, True), (256, 3, True), (256, 1, True)]
    for filters, blocks, first_downsamples in stages:
        for i in range(blocks):
            layers += _residual_block(filters, downsample=first_downsamples and i == 0)
    layers += [Spec("avg_pool", size=0, stride=1), Spec("fc", 128, bias=False)]
    return layers


FACE_DESCRIPTOR_ARCHITECTURE: list[Spec] = _face_descriptor_architecture()
INPUT_SIZE = 150


# ---------------------------------------------------------------------------
# Primitive decoding


class _Stream:
    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.pos = 0

    def _take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise DlibFormatError(f"file ends at byte {len(self.data)}, needed {n} more bytes at {self.pos}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def int(self) -> int:
        control = self._take(1)[0]
        size = control & 0x0F
        if size == 0 or size > 8 or control & 0x70:
            raise DlibFormatError(f"bad integer control byte {control:#04x} at byte {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little")
        return -value if control & 0x80 else value

    def float(self) -> float:
        if self.pos < len(self.data) and self.data[self.pos] & 0x70:
            raise DlibFormatError(f"old text float format at byte {self.pos} is not supported")
        mantissa = self.int()
        exponent = self.int()
        if exponent == 32000:
            return math.inf
        if exponent == 32001:
            return -math.inf
        if exponent == 32002:
            return math.nan
        return math.ldexp(mantissa, exponent)

    def bool(self) -> bool:
        byte = bytes(self._take(1))
        if byte not in (b"0", b"1"):
            raise DlibFormatError(f"bad bool {byte!r} at byte {self.pos - 1}")
        return byte == b"1"

    def string(self) -> str:
        length = self.int()
        if length < 0 or length > 1024:
            raise DlibFormatError(f"implausible string length {length} at byte {self.pos}")
        return bytes(self._take(length)).decode("ascii", errors="replace")

    def tensor(self) -> NDArray[np.float32]:
        self.expect_int(2, "tensor version")
        shape = tuple(self.int() for _ in range(4))
        if min(shape) < 0:
            raise DlibFormatError(f"negative tensor shape {shape}")
        count = math.prod(shape)
        values = np.frombuffer(self._take(4 * count), dtype="<f4")
        return values.astype(np.float32).reshape(shape)

    def alias_shape(self) -> tuple[int, int, int, int]:
        self.expect_int(1, "alias_tensor version")
        samples, channels, rows, cols = (self.int() for _ in range(4))
        return samples, channels, rows, cols

    def expect_int(self, expected: int | tuple[int, ...], what: str) -> int:
        value = self.int()
        allowed = expected if isinstance(expected, tuple) else (expected,)
        if value not in allowed:
            raise DlibFormatError(f"{what}: expected {expected}, found {value} (byte {self.pos})")
        return value

    def expect_string(self, allowed: tuple[str, ...], what: str) -> str:
        value = self.string()
        if value not in allowed:
            raise DlibFormatError(f"{what}: expected one of {allowed}, found {value!r} (byte {self.pos})")
        return value


# ---------------------------------------------------------------------------
# Layer details (dlib/dnn/layers.h, input.h, loss.h)


def _read_loss(s: _Stream) -> LossMetric:
    version = s.expect_string(("loss_metric_", "loss_metric_2"), "loss layer")
    if version == "loss_metric_":
        return LossMetric(0.1, 0.75)  # values dlib hard-coded for the first version
    return LossMetric(s.float(), s.float())


def _read_input(s: _Stream) -> InputRGB:
    s.expect_string(("input_rgb_image_sized",), "input layer")
    means = (s.float(), s.float(), s.float())
    rows, cols = s.int(), s.int()
    if (rows, cols) != (INPUT_SIZE, INPUT_SIZE):
        raise DlibFormatError(f"input is {rows}x{cols}, expected {INPUT_SIZE}x{INPUT_SIZE}")
    return InputRGB(means, rows, cols)


def _check(spec: Spec, what: str, found, expected) -> None:
    if found != expected:
        raise DlibFormatError(f"{spec.kind} layer: {what} is {found}, expected {expected}")


def _read_con(s: _Stream, spec: Spec, in_channels: int) -> Conv:
    version = s.expect_string(("con_4", "con_5", "con_6"), "con layer")
    params = s.tensor().reshape(-1)
    _check(spec, "filters", s.int(), spec.filters)
    _check(spec, "rows", s.int(), spec.size)
    _check(spec, "columns", s.int(), spec.size)
    _check(spec, "stride y", s.int(), spec.stride)
    _check(spec, "stride x", s.int(), spec.stride)
    _check(spec, "padding y", s.int(), spec.padding)
    _check(spec, "padding x", s.int(), spec.padding)
    filters_shape = s.alias_shape()
    bias_shape = s.alias_shape()
    for _ in range(4):  # learning-rate and weight-decay multipliers
        s.float()
    use_bias = s.bool() if version in ("con_5", "con_6") else True
    if version == "con_6" and s.bool():
        raise DlibFormatError("con layer with a fused relu is not supported")
    _check(spec, "filter shape", filters_shape, (spec.filters, in_channels, spec.size, spec.size))
    n_weights = math.prod(filters_shape)
    if use_bias:
        _check(spec, "bias shape", bias_shape, (1, spec.filters, 1, 1))
        _check(spec, "parameter count", params.size, n_weights + spec.filters)
        bias = params[n_weights:].copy()
    else:
        _check(spec, "parameter count", params.size, n_weights)
        bias = np.zeros(spec.filters, np.float32)
    weight = params[:n_weights].reshape(filters_shape).copy()
    return Conv(weight, bias, spec.stride, spec.padding)


def _read_affine(s: _Stream, spec: Spec, channels: int) -> Affine:
    version = s.expect_string(("affine_", "affine_2"), "affine layer")
    params = s.tensor().reshape(-1)
    gamma_shape = s.alias_shape()
    beta_shape = s.alias_shape()
    mode = s.int()
    if version == "affine_2" and s.bool():
        raise DlibFormatError("disabled affine layer is not supported")
    _check(spec, "mode (0 = per channel)", mode, 0)
    _check(spec, "gamma shape", gamma_shape, (1, channels, 1, 1))
    _check(spec, "beta shape", beta_shape, (1, channels, 1, 1))
    _check(spec, "parameter count", params.size, 2 * channels)
    return Affine(params[:channels].copy(), params[channels:].copy())


def _read_relu(s: _Stream, spec: Spec) -> Relu:
    version = s.expect_string(("relu_", "relu_2"), "relu layer")
    if version == "relu_2" and s.bool():
        raise DlibFormatError("disabled relu layer is not supported")
    return Relu()


def _read_pool(s: _Stream, spec: Spec) -> MaxPool | AvgPool:
    name = "max_pool_2" if spec.kind == "max_pool" else "avg_pool_2"
    s.expect_string((name,), f"{spec.kind} layer")
    _check(spec, "rows", s.int(), spec.size)
    _check(spec, "columns", s.int(), spec.size)
    _check(spec, "stride y", s.int(), spec.stride)
    _check(spec, "stride x", s.int(), spec.stride)
    _check(spec, "padding y", s.int(), spec.padding)
    _check(spec, "padding x", s.int(), spec.padding)
    cls = MaxPool if spec.kind == "max_pool" else AvgPool
    return cls(spec.size, spec.stride, spec.padding)


def _read_fc(s: _Stream, spec: Spec, inputs: int) -> FullyConnected:
    version = s.expect_string(("fc_2", "fc_3"), "fc layer")
    _check(spec, "outputs", s.int(), spec.filters)
    _check(spec, "inputs", s.int(), inputs)
    params = s.tensor().reshape(-1)
    weights_shape = s.alias_shape()
    s.alias_shape()  # biases: an empty alias when there is no bias
    bias_mode = s.int()  # 0: has bias, 1: no bias
    for _ in range(4):
        s.float()
    use_bias = s.bool() if version == "fc_3" else True
    has_bias = bias_mode == 0 and use_bias
    _check(spec, "bias", has_bias, spec.bias)
    _check(spec, "weight shape", weights_shape, (inputs, spec.filters, 1, 1))
    n_weights = inputs * spec.filters
    _check(spec, "parameter count", params.size, n_weights + (spec.filters if has_bias else 0))
    weight = params[:n_weights].reshape(inputs, spec.filters).copy()
    bias = params[n_weights:].copy() if has_bias else None
    return FullyConnected(weight, bias)


def _read_add_prev(s: _Stream, spec: Spec) -> AddPrev:
    s.expect_string(("add_prev_",), "add_prev layer")
    return AddPrev(spec.id)


# ---------------------------------------------------------------------------
# The whole file


def read_network(path: str | Path, architecture: list[Spec] = FACE_DESCRIPTOR_ARCHITECTURE) -> DlibNetwork:
    """Parse a dlib network file of the given type into numpy weights."""
    data = Path(path).read_bytes()
    network = parse_network(data, architecture)
    return DlibNetwork(network.input, network.layers, network.loss, hashlib.sha256(data).hexdigest())


def parse_network(data: bytes, architecture: list[Spec] = FACE_DESCRIPTOR_ARCHITECTURE) -> DlibNetwork:
    s = _Stream(data)
    s.expect_int(1, "loss layer version")
    loss = _read_loss(s)

    # Version numbers, outermost layer first: 1 for tag/skip layers, 2 for
    # computing layers; the layer that reads the input may be version 2 or 3.
    innermost = next(i for i, spec in enumerate(architecture) if spec.kind not in ("tag", "skip"))
    versions: dict[int, int] = {}
    for i in reversed(range(len(architecture))):
        spec = architecture[i]
        if spec.kind in ("tag", "skip"):
            s.expect_int(1, f"{spec.kind} layer version")
        elif i == innermost:
            versions[i] = s.expect_int((2, 3), "first layer version")
        else:
            s.expect_int(2, f"{spec.kind} layer version")

    input_layer = _read_input(s)

    # Details and training state, input side first; track the shape to check parameters.
    channels, size = 3, INPUT_SIZE
    tags: dict[int, tuple[int, int]] = {}
    layers: list[Layer] = []
    for i, spec in enumerate(architecture):
        if spec.kind == "tag":
            tags[spec.id] = (channels, size)
            layers.append(Tag(spec.id))
            continue
        if spec.kind == "skip":
            channels, size = tags[spec.id]
            layers.append(Skip(spec.id))
            continue

        if spec.kind == "con":
            layer = _read_con(s, spec, channels)
            channels, size = spec.filters, _out_size(size, spec.size, spec.stride, spec.padding)
        elif spec.kind == "affine":
            layer = _read_affine(s, spec, channels)
        elif spec.kind == "relu":
            layer = _read_relu(s, spec)
        elif spec.kind in ("max_pool", "avg_pool"):
            layer = _read_pool(s, spec)
            size = 1 if spec.size == 0 else _out_size(size, spec.size, spec.stride, spec.padding)
        elif spec.kind == "add_prev":
            layer = _read_add_prev(s, spec)
            other_channels, other_size = tags[spec.id]
            channels, size = max(channels, other_channels), max(size, other_size)
        elif spec.kind == "fc":
            layer = _read_fc(s, spec, channels * size * size)
            channels, size = spec.filters, 1
        else:  # pragma: no cover - architecture tables are written by hand
            raise ValueError(f"unknown layer kind {spec.kind!r}")
        layers.append(layer)
        _read_layer_state(s, input_side=(i == innermost), version=versions.get(i, 2))

    if s.pos != len(data):
        raise DlibFormatError(f"{len(data) - s.pos} unread bytes after the network")
    return DlibNetwork(input_layer, layers, loss)


def _read_layer_state(s: _Stream, input_side: bool, version: int) -> None:
    """What `add_layer` saves after a layer's details: flags and training buffers."""
    for _ in range(3):  # setup called, gradient input is stale, output and gradient disabled
        s.bool()
    s.tensor()  # x_grad
    s.tensor()  # cached_output
    if input_side:
        s.tensor()  # grad_final
        if version >= 3:
            s.int()  # sample expansion factor
    else:
        s.tensor()  # params_grad


def _out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return 1 + (size + 2 * padding - kernel) // stride
