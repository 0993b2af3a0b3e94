"""Logging for a served ovp: every line has its time (UTC, milliseconds), its level and the id of
the request it was written for; as text, or as one JSON object a line (`--log-format json`).

The access log (logger `ovp.access`) writes one line per request; the HTTP server's own is off,
since it knows neither the account nor the request id. The server's own lines (Granian's logger
`_granian`) are warnings and errors only: a worker that died, one that could not start.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from ovp.api.request_ids import current_request_id
from ovp.domain.clock import timestamp_of_ms


def _utc(record: logging.LogRecord) -> str:
    # timestamp_of_ms keeps each second's text: a busy server writes hundreds of lines in each.
    return timestamp_of_ms(int(record.created) * 1000 + int(record.msecs))


class RequestIdFilter(logging.Filter):
    """Puts the id of the request being answered (or "-") on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{_utc(record)} {record.levelname} {record.name} [{getattr(record, 'request_id', '-')}] " \
               f"{record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc(record),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def logging_config(log_format: str, *, access_log: bool, level: str = "INFO") -> dict[str, Any]:
    """A dictConfig for ovp's loggers and the HTTP server's, in every process of a server."""
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "ovp",
               "filters": ["request_id"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"ovp": {"()": formatter}},
        "handlers": {"stderr": handler},
        "loggers": {
            "ovp": {"handlers": ["stderr"], "level": level, "propagate": False},
            "ovp.access": {"level": "INFO" if access_log else "WARNING"},
            "_granian": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        },
    }
