"""The FaceLink desktop app (PySide6).

It hosts the hub's HTTP server for LAN devices while it runs and lets people
name the faces their wearable met, edit contacts and their vibration patterns,
and watch the hub's state. Only this package imports Qt, and only through
:mod:`gui.qt`.
"""
