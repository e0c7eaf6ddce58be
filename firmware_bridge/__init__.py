"""The link between the hub and the haptic wearable.

- ``protocol``: the wire format (COBS frames with CRC-16), pure encode/decode.
- ``link``: the serial port, handshake, acknowledged commands and reconnects.
- ``haptics``: turns "contact seen" events into vibrations on the wearable.
- ``simulator``: the wearable's behaviour on a pseudo-terminal, for tests and demos.
- ``firmware/``: the reference firmware (Arduino sketch and its C protocol code).

See PROTOCOL.md for the wire protocol.
"""
