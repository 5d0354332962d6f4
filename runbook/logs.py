"""Structured logs: one JSON object a line, with the request and the incident it concerns.

What a line is about is kept in context variables: the request middleware sets the request
id and the incident of the URL, the delivery code the message and its incident, the deadline
sweep the incident whose deadline it fires. ``ContextFilter`` copies them onto every record,
so every line written meanwhile, by any logger, carries them (``request_id``,
``incident_id``, ``notification_id``; absent when not known).
"""

import contextlib
import contextvars
import json
import logging
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

CONTEXT_FIELDS = ("request_id", "incident_id", "notification_id")
_vars = {name: contextvars.ContextVar(name, default=None) for name in CONTEXT_FIELDS}

# A request id taken from X-Request-ID only when it is this tame; anything else is replaced.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def new_request_id(given=None):
    """The caller's X-Request-ID when it is a plain token, else a new one."""
    if given and REQUEST_ID_PATTERN.match(given):
        return given
    return uuid.uuid4().hex


def current():
    """The context fields known now (those set), as a dict."""
    return {name: var.get() for name, var in _vars.items() if var.get() is not None}


def set_context(**fields):
    """Set fields for the rest of this context; returns tokens for ``reset``."""
    return [(_vars[name], _vars[name].set(value)) for name, value in fields.items()]


def reset(tokens):
    for var, token in reversed(tokens):
        var.reset(token)


@contextlib.contextmanager
def bound(**fields):
    """The fields given hold for what runs inside (a task, a delivery), and are undone after,
    so a worker thread that goes on to the next task does not carry them along."""
    tokens = set_context(**{k: v for k, v in fields.items() if v is not None})
    try:
        yield
    finally:
        reset(tokens)


class ContextFilter(logging.Filter):
    """Copies the context fields onto each record (a handler filter: every logger's lines)."""

    def filter(self, record):
        known = current()
        if not known:
            # Django logs a 4xx/5xx answer after the middleware has let go of the request's
            # context; the request keeps a copy (RequestContextMiddleware).
            known = getattr(getattr(record, "request", None), "log_context", None) or {}
        for name, value in known.items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


# The attributes every LogRecord has; anything else on a record was passed with ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the context
    fields, whatever ``extra`` gave, and the traceback when there is one."""

    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            line.update(_access_fields(record.args))
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and value is not None:
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


# gunicorn's access-log atoms (record.args of a "gunicorn.access" line) kept as fields.
ACCESS_ATOMS = {
    "h": "client",
    "m": "method",
    "U": "path",
    "q": "query",
    "s": "status",
    "B": "bytes",
    "a": "user_agent",
    "{x-request-id}o": "request_id",
}


def _access_fields(atoms):
    fields = {name: atoms.get(atom) for atom, name in ACCESS_ATOMS.items() if atoms.get(atom) not in (None, "", "-")}
    if "D" in atoms:
        fields["duration_seconds"] = atoms["D"] / 1_000_000
    return fields


def config(level="INFO", fmt="json"):
    """The LOGGING dict for settings and gunicorn: JSON lines on stderr (``fmt="text"`` gives
    plain lines, for reading a terminal)."""
    formatter = (
        {"()": "runbook.logs.JsonFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "runbook.logs.ContextFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"axes": {"level": "WARNING"}},
    }
