"""Structured logs: one JSON line per event, on standard output.

What may be logged is deliberately narrow (ids, route templates, statuses, durations, error
types). Bodies, cookies, tokens, emails, filenames and free text never are.
"""

import logging
import sys

import structlog

_HANDLER_NAME = "waymark-stdout"


def configure_logging(level: str = "INFO") -> None:
    """Idempotent: creating several apps (as the tests do) configures logging once."""
    root = logging.getLogger()
    if not any(h.get_name() == _HANDLER_NAME for h in root.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(handler)
    root.setLevel(level.upper())
    # Uvicorn's access log prints raw paths with query strings (search terms); ours replaces it.
    logging.getLogger("uvicorn.access").disabled = True
    # fontTools narrates every font it subsets into a PDF.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
