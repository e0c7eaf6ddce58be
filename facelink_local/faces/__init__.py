"""The face pipeline: decode an image, find faces, align them, embed them.

`make_engine(name)` builds a `FaceEngine` from one detector, one aligner and one
embedder. Enrolment and lookup always use the same engine, and every stored
embedding remembers `engine.id`, so embeddings of different engines are never
compared.
"""

from .engine import ENGINES, FaceEngine, make_engine
from .image import InvalidImage, decode_image
from .schemas import AnalyzedFace, DetectedFace

__all__ = [
    "ENGINES",
    "AnalyzedFace",
    "DetectedFace",
    "FaceEngine",
    "InvalidImage",
    "decode_image",
    "make_engine",
]
