"""The HTTP API (api-v1): one blueprint per area, built by `create_app`."""

from .app import create_app

__all__ = ["create_app"]
