"""The server's own logs under the masking policy (defence in depth): uvicorn's access log masks resident
IDs, bank accounts and mobile numbers in the request line (also percent-encoded, as in ``next=``), and
every other record (uvicorn's, the app's) is masked in its message and traceback. The pages never put
such a number in a URL (search terms and subject ids travel sealed, ``qingfeng.web.opaque``); this
catches the addresses people type or keep from older versions.

``qingfeng serve`` passes ``log_config()`` to uvicorn."""

from __future__ import annotations

import copy
import logging
from typing import Any
from urllib.parse import unquote_plus

from qingfeng.register.safe_output import contains_personal, mask_text

ACCESS_LOGGER = "uvicorn.access"
_PATH_ARG = 2  # uvicorn's access record: (client, method, path with query, http version, status)
_TRACEBACK = logging.Formatter()


def mask_request_target(target: str) -> str:
    """A request's path and query with personal numbers masked, decoded first when they hide behind
    percent-encoding (``%2F330109…``, ``+`` for spaces); an innocent target is kept as it was sent."""
    masked = mask_text(target)
    decoded = target
    for _ in range(3):  # double encoding: next=%252F…
        step = unquote_plus(decoded)
        if step == decoded:
            break
        decoded = step
    if decoded != target and contains_personal(decoded):
        return mask_text(decoded)
    return masked


class MaskFilter(logging.Filter):
    """Masks a record in place (a handler filter: every record the handler writes passes here)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == ACCESS_LOGGER and isinstance(args, tuple) and len(args) > _PATH_ARG:
            record.args = (
                *args[:_PATH_ARG],
                mask_request_target(str(args[_PATH_ARG])),
                *args[_PATH_ARG + 1 :],
            )
        else:
            try:
                message = record.getMessage()
            except Exception:  # a malformed record is the logging module's to report
                return True
            if contains_personal(message):
                record.msg, record.args = mask_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACK.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with ``MaskFilter`` on every handler, and the root logger (the
    app's own records, warnings and above as before) written through the masked default handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["mask"] = {"()": MaskFilter}
    for handler in config["handlers"].values():
        handler["filters"] = [*handler.get("filters", []), "mask"]
    config["root"] = {"handlers": ["default"], "level": "WARNING"}
    return config
