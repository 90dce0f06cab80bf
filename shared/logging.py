"""structlog set-up: JSON lines in production, readable lines in a terminal; request and task ids bound;
secrets (API keys, signing secrets, passwords in URLs) scrubbed from every line, structlog's and stdlib's."""

from __future__ import annotations

import logging
import sys

import structlog

from shared.config import ObservabilitySettings
from shared.redaction import is_sensitive_name, redact


def _redact_event(_: object, __: str, event_dict: structlog.types.EventDict) -> structlog.types.EventDict:
    for name, value in event_dict.items():
        if is_sensitive_name(name):
            event_dict[name] = "[redacted]"
        elif isinstance(value, str):
            event_dict[name] = redact(value)
    return event_dict


class RedactingFormatter(logging.Formatter):
    """A stdlib formatter that scrubs secrets from the finished line (uvicorn, Celery, libraries)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _StderrLogger:
    """Writes each line to the *current* ``sys.stderr``: a stream captured at configuration time may be
    closed later (test runners and reloaders swap it), and a log line must never raise."""

    def __init__(self, *_: object) -> None:
        pass

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = failure = msg


def configure_logging(settings: ObservabilitySettings, *, service: str) -> None:
    as_json = settings.log_json if settings.log_json is not None else not sys.stderr.isatty()
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        _redact_event,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[settings.log_level]),
        logger_factory=_StderrLogger,
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=settings.log_level, handlers=[handler])
    route_through_root(UVICORN_LOGGERS)


# uvicorn configures these with handlers of its own (before it imports the app), whose formatters print a
# traceback, and the exception message in it, as they are.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def route_through_root(names: tuple[str, ...]) -> None:
    """Make the named loggers write through the root logger's redacting handler instead of their own."""
    for name in names:
        logger = logging.getLogger(name)
        if not logger.handlers and not logger.propagate:
            continue  # switched off (uvicorn's --no-access-log): it stays off
        for own in list(logger.handlers):
            logger.removeHandler(own)
        logger.propagate = True
