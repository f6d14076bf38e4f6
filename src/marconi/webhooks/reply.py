"""The reply an application may put in its answer to an inbound-message webhook.

Accepted shapes, with a 2xx status:

- ``Content-Type: application/json`` and ``{"reply": "text"}`` (a null, empty or missing
  ``reply`` means no reply);
- ``Content-Type: text/plain`` and the text itself (surrounding whitespace is dropped).

Anything else (an empty body, other JSON, HTML, XML) is no reply.
"""

from __future__ import annotations

from typing import Final

import orjson

__all__ = ["MAX_REPLY_BYTES", "parse_reply"]

MAX_REPLY_BYTES: Final = 16 * 1024


def parse_reply(content_type: str | None, body: bytes) -> str | None:
    """The reply text in a webhook response, or None."""
    if not body.strip() or len(body) > MAX_REPLY_BYTES:
        return None
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        reply = data.get("reply") if isinstance(data, dict) else None
        if isinstance(reply, str) and reply.strip():
            return reply
        return None
    if media == "text/plain":
        try:
            text = body.decode("utf-8").strip()
        except UnicodeDecodeError:
            return None
        return text or None
    return None
