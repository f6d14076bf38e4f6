"""TwiML answers to an inbound-message webhook: ``<Response><Message>text</Message></Response>``.

Only the first ``<Message>``'s text (or its ``<Body>``) is used; other verbs (``<Redirect>``,
media) are ignored. Entity expansion and DTDs are refused, so a hostile answer cannot blow up.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Final

__all__ = ["parse_twiml"]

MAX_TWIML_BYTES: Final = 16 * 1024
_XML_TYPES: Final = ("text/xml", "application/xml", "text/html", "")


def parse_twiml(content_type: str | None, body: bytes) -> str | None:
    """The reply text of a TwiML body, or None when it is not TwiML or has no message."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in _XML_TYPES and not media.endswith("+xml"):
        return None
    if len(body) > MAX_TWIML_BYTES or b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        return None
    try:
        root = ET.fromstring(body)  # noqa: S314 - no DTD gets here (checked above)
    except ET.ParseError:
        return None
    if root.tag != "Response":
        return None
    message = root.find("Message")
    if message is None:
        return None
    inner = message.find("Body")
    text = (inner.text if inner is not None else message.text) or ""
    return text.strip() or None
