"""Plain answers are decoded as their Content-Type says, UTF-8 when it says nothing."""

from __future__ import annotations

import httpx

from xnat_client._responses import body_text


def test_utf8_or_unnamed_charset_decodes_as_utf8() -> None:
    """No charset, or charset=UTF-8 in any spelling: the bytes are UTF-8."""
    body = "sujet é ✓".encode()
    for kind in ("text/plain", "text/plain; charset=UTF-8", "text/plain;charset = utf-8", ""):
        response = httpx.Response(200, content=body, headers={"Content-Type": kind})
        assert body_text(response) == "sujet é ✓"


def test_another_named_charset_is_honoured() -> None:
    """An answer in ISO-8859-1 is decoded as ISO-8859-1, not as broken UTF-8."""
    response = httpx.Response(
        200,
        content="sujet é".encode("latin-1"),
        headers={"Content-Type": "text/plain; charset=ISO-8859-1"},
    )
    assert body_text(response) == "sujet é"
