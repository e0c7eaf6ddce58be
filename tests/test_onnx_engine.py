"""The ONNX face descriptor: dlib's reader, the graph, the cache, and equality with dlib."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from facelink_local.faces import dlib_dnn, make_engine, onnx_models
from facelink_local.faces.dlib_dnn import (
    Affine,
    AddPrev,
    AvgPool,
    Conv,
    DlibFormatError,
    FullyConnected,
    MaxPool,
    Relu,
    Skip,
    Tag,
    parse_network,
)
from facelink_local.faces.dlib_models import model_path
from facelink_local.faces.onnx_models import OnnxResNetEmbedder, build_or_load
from facelink_local.faces.schemas import CHIP_SIZE, EMBEDDING_DIM

DAT = "dlib_face_recognition_resnet_model_v1.dat"


@pytest.fixture(scope="module")
def dat_bytes() -> bytes:
    return model_path(DAT).read_bytes()


@pytest.fixture(scope="module")
def network(dat_bytes: bytes) -> dlib_dnn.DlibNetwork:
    return parse_network(dat_bytes)


# --- dlib's encodings ----------------------------------------------------------


def test_stream_decodes_dlib_integers_floats_strings_and_bools():
    # 0 -> 01 00; 300 -> 02 2c 01; -5 -> 81 05; 0.04 as dlib writes it (mantissa
    # 0xa3d70a, exponent -28); "con_4" as length then bytes; bool '1'.
    data = bytes.fromhex("0100" "022c01" "8105" "030ad7a3" "811c" "0105") + b"con_4" + b"1"
    s = dlib_dnn._Stream(data)
    assert [s.int(), s.int(), s.int()] == [0, 300, -5]
    assert s.float() == pytest.approx(0.04, abs=1e-9)
    assert s.string() == "con_4"
    assert s.bool() is True
    with pytest.raises(DlibFormatError, match="file ends"):
        s.int()


# --- the real .dat -------------------------------------------------------------


@pytest.mark.model
def test_reader_reads_the_whole_face_descriptor(network: dlib_dnn.DlibNetwork):
    assert network.input.means == pytest.approx((122.782, 117.001, 104.298), abs=1e-4)
    assert (network.input.rows, network.input.cols) == (150, 150)
    assert network.loss.distance_threshold == pytest.approx(0.6)
    # 130 layers between the input and the loss: 29 x (con, affine, relu), the
    # stem's max pool, 14 residual adds with 18 tags and 4 skips, 4 shortcut
    # average pools plus the global one, and the fc layer.
    counts = {kind.__name__: network.count(kind)
              for kind in (Conv, Affine, Relu, MaxPool, AvgPool, Tag, Skip, AddPrev, FullyConnected)}
    assert counts == {"Conv": 29, "Affine": 29, "Relu": 29, "MaxPool": 1, "AvgPool": 5, "Tag": 18,
                      "Skip": 4, "AddPrev": 14, "FullyConnected": 1}
    assert len(network.layers) == 130
    assert network.parameter_count() == 5_614_592

    stem = network.layers[0]
    assert isinstance(stem, Conv) and stem.weight.shape == (32, 3, 7, 7) and stem.stride == 2 and stem.padding == 0
    fc = network.layers[-1]
    assert isinstance(fc, FullyConnected) and fc.weight.shape == (256, EMBEDDING_DIM) and fc.bias is None
    for layer in network.layers:
        for array in vars(layer).values():
            if isinstance(array, np.ndarray):
                assert array.dtype == np.float32 and np.isfinite(array).all()


@pytest.mark.model
def test_reader_refuses_truncated_extended_or_other_networks(dat_bytes: bytes):
    with pytest.raises(DlibFormatError, match="file ends"):
        parse_network(dat_bytes[:-10])
    with pytest.raises(DlibFormatError, match="unread bytes"):
        parse_network(dat_bytes + b"\x00")
    shorter = dlib_dnn.FACE_DESCRIPTOR_ARCHITECTURE[:-1] + [dlib_dnn.Spec("fc", 64, bias=False)]
    with pytest.raises(DlibFormatError):
        parse_network(dat_bytes, shorter)


# --- the ONNX graph and its cache ----------------------------------------------


@pytest.mark.model
def test_graph_takes_uint8_chips_and_gives_128_floats(network: dlib_dnn.DlibNetwork):
    import onnx

    model = onnx_models.build_model(network)
    graph = onnx.shape_inference.infer_shapes(model).graph
    (inp,), (out,) = graph.input, graph.output
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    assert [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim] == ["N", CHIP_SIZE, CHIP_SIZE, 3]
    assert [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim] == ["N", EMBEDDING_DIM]
    # add_prev zero-pads: shortcut channels at the 64, 128 and 256 stages, and
    # the conv branch's size at 8 -> 3 (vs 4) and 4 -> 1 (vs 2).
    assert sum(node.op_type == "Pad" for node in graph.node) == 5


@pytest.mark.model
def test_cache_is_reused_and_named_by_the_dat_hash(onnx_cache: Path, monkeypatch: pytest.MonkeyPatch):
    digest = onnx_models.file_sha256(model_path(DAT))
    expected = onnx_cache / "models" / f"dlib_resnet_v1-{digest[:16]}.onnx"
    assert expected.is_file() and onnx_models.recorded_hash(expected) == digest
    assert list(expected.parent.iterdir()) == [expected]  # no temporary file left behind

    def no_rebuild(*args, **kwargs):
        raise AssertionError("rebuilt a valid cached model")

    monkeypatch.setattr(onnx_models, "build_file", no_rebuild)
    assert build_or_load(onnx_cache, packaged_dir=onnx_cache / "none") == expected


@pytest.mark.model
@pytest.mark.slow
def test_damaged_cache_is_rebuilt_identically(onnx_cache: Path, tmp_path: Path):
    good = next((onnx_cache / "models").glob("*.onnx"))
    damaged = tmp_path / "models" / good.name
    damaged.parent.mkdir()
    damaged.write_bytes(good.read_bytes()[: good.stat().st_size // 2])

    rebuilt = build_or_load(tmp_path, packaged_dir=tmp_path / "none")
    assert rebuilt == damaged
    assert rebuilt.read_bytes() == good.read_bytes()  # the conversion is deterministic


@pytest.mark.model
@pytest.mark.slow
def test_the_packaging_command_writes_the_file_the_hub_looks_for_first(onnx_cache: Path, tmp_path: Path, capsys):
    assert onnx_models.main([]) == 2 and "usage" in capsys.readouterr().err
    packaged = tmp_path / "facelink_local" / "faces" / "models"
    assert onnx_models.main([str(packaged)]) == 0
    (built,) = packaged.iterdir()
    assert capsys.readouterr().out.strip() == str(built)
    assert built.stat().st_mode & 0o777 == 0o644  # an installed app's users must read it
    assert build_or_load(tmp_path / "data", packaged_dir=packaged) == built
    assert not (tmp_path / "data").exists()  # found, so nothing was built


@pytest.mark.model
def test_packaged_model_is_preferred_when_its_hash_matches(onnx_cache: Path, tmp_path: Path):
    good = next((onnx_cache / "models").glob("*.onnx"))
    packaged = tmp_path / "packaged"
    packaged.mkdir()
    shutil.copy(good, packaged / good.name)
    assert build_or_load(onnx_cache, packaged_dir=packaged) == packaged / good.name

    (packaged / good.name).write_bytes(b"not a model")
    assert build_or_load(onnx_cache, packaged_dir=packaged) == good


# --- the embedder without weights ----------------------------------------------


class StubSession:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def run(self, output_names, feed):
        self.calls.append((output_names, feed))
        chips = feed["chips"]
        return [np.full((len(chips), EMBEDDING_DIM), 0.5, dtype=np.float32)]


def test_embedder_feeds_uint8_chips_to_its_session(tmp_path: Path):
    session = StubSession()
    embedder = OnnxResNetEmbedder(tmp_path, session=session)

    assert embedder.embed(np.zeros((0, CHIP_SIZE, CHIP_SIZE, 3), np.uint8)).shape == (0, EMBEDDING_DIM)
    assert session.calls == [] and not embedder.loaded

    out = embedder.embed(np.zeros((3, CHIP_SIZE, CHIP_SIZE, 3), np.uint8))
    assert out.shape == (3, EMBEDDING_DIM) and out.dtype == np.float32
    ((names, feed),) = session.calls
    assert names == ["descriptors"] and feed["chips"].dtype == np.uint8 and feed["chips"].shape[0] == 3
    with pytest.raises(ValueError, match="chips must be"):
        embedder.embed(np.zeros((1, 112, 112, 3), np.uint8))
    assert not any(tmp_path.iterdir())  # nothing was built


def test_onnx_engine_shares_detector_and_aligner_but_not_the_embedder_identity(tmp_path: Path):
    import onnxruntime

    dlib_engine = make_engine("dlib")
    onnx_engine = make_engine("onnx", cache_dir=tmp_path)
    assert onnx_engine.name == "onnx"
    assert onnx_engine.detector.identity == dlib_engine.detector.identity
    assert onnx_engine.aligner.identity == dlib_engine.aligner.identity
    digest = onnx_models.file_sha256(model_path(DAT))
    assert onnx_engine.embedder.identity == f"onnx-dlib-resnet-v1-{digest[:8]}-ort{onnxruntime.__version__}"
    assert onnx_engine.id != dlib_engine.id
    assert onnx_engine.embedder.intra_op_threads == onnx_models.DEFAULT_INTRA_OP_THREADS
    assert make_engine("onnx", cache_dir=tmp_path) is onnx_engine


# --- equality with dlib on real photos -----------------------------------------


@pytest.mark.faces
@pytest.mark.model
@pytest.mark.slow
def test_onnx_descriptors_equal_dlibs_on_real_photos(shared_faces: Path, onnx_cache: Path):
    from facelink_local.faces.dlib_models import DlibResNetEmbedder, FivePointAligner, HogDetector
    from facelink_local.faces.image import decode_image

    people = sorted(d for d in (shared_faces / "identities").iterdir() if d.is_dir())
    people = people[:: max(1, len(people) // 13)][:13]  # spread over the alphabet
    detector, aligner = HogDetector(), FivePointAligner()
    chips = []
    for person in people:
        for photo in sorted(person.glob("*.jpg"))[:2]:
            rgb = decode_image(photo.read_bytes(), max_side=1600)
            chips += [aligner.align(rgb, face).chip for face in detector.detect(rgb)]
    chips = np.stack(chips)
    assert len(chips) >= 2 * len(people) - 2

    reference = DlibResNetEmbedder().embed(chips)
    one_thread = OnnxResNetEmbedder(onnx_cache, intra_op_threads=1)
    two_threads = OnnxResNetEmbedder(onnx_cache, intra_op_threads=2)
    batched = one_thread.embed(chips)
    single = np.concatenate([two_threads.embed(chip[None]) for chip in chips])

    assert np.abs(batched - reference).max() < 1e-4
    assert np.abs(single - reference).max() < 1e-4
    # Far below the distances that matter (same person <= ~0.45, others >= ~0.6).
    assert np.linalg.norm(batched - reference, axis=1).max() < 1e-4
