"""FaceLink Local: an offline face-recognition hub for a haptic wearable."""

__version__ = "0.1.0"
