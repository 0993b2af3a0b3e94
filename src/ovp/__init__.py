"""ovp: a faithful, stateful server for Telnyx-style outbound voice profiles."""

__version__ = "0.1.0"
