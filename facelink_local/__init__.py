"""FaceLink Local: an offline face-recognition hub for a haptic wearable."""

import os

__version__ = "0.1.0"

# onnxruntime's official wheels (1.2x and later) collect usage telemetry on Linux and macOS too: a
# device id and a queue of events under ~/.cache/Microsoft, sent to Microsoft when there is a
# network. Nothing of a biometric hub leaves the machine, so it is switched off, before onnxruntime
# starts (the variable is read once per process). The second name is the one later releases read.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ORT_TELEMETRY_DISABLED", "1")
