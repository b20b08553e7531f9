"""Logging for the served API: one JSON object per line (the default) or plain text, each line carrying the id
of the request it belongs to.

`python -m api serve` hands `logging_config(...)` to uvicorn, which applies it in every worker process; the
request middleware (api.metrics.ObserveRequests) sets the request id and writes one line per request.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The id of the request being served; routes run in worker threads with a copy of this context.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Fields a log call may pass with `extra=` that go into the JSON object as they are.
REQUEST_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "principal_id")


class RequestIdFilter(logging.Filter):
    """Give every record the current request id (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, the request fields that are known, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in REQUEST_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """A logging.config.dictConfig for the service: our formatter on stderr for our loggers and uvicorn's
    (whose own access log is off: ObserveRequests logs every request with more fields)."""
    formatter = ({"()": JsonFormatter} if log_format == "json" else
                 {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"})
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"default": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "default",
                                "filters": ["request_id"], "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error")},
    }
