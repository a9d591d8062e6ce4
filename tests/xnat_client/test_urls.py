"""Request URLs made without re-parsing equal the ones httpx makes itself."""

from __future__ import annotations

import httpx
from hypothesis import given
from hypothesis import strategies as st

from xnat_client._paths import segment
from xnat_client._urls import UrlMaker

names = st.text(
    st.characters(min_codepoint=0x20, blacklist_categories=("Cs",), blacklist_characters="/\\\x7f"),
    min_size=1,
    max_size=20,
).filter(lambda s: s not in (".", ".."))
queries = st.dictionaries(st.text(max_size=12), st.text(max_size=12), max_size=4)
bases = st.sampled_from(
    ["http://127.0.0.1:8080", "https://127.0.0.1/xnat", "http://127.0.0.1:9/a%20b/"]
)


@given(base=bases, parts=st.lists(names, min_size=1, max_size=4), params=queries)
def test_fast_urls_equal_httpx_urls(base: str, parts: list[str], params: dict[str, str]) -> None:
    """Any quoted path and any parameters: the same URL, byte for byte, as httpx builds."""
    path = "/data/" + "/".join(segment(p) for p in parts)
    expected = httpx.URL(base.rstrip("/") + path, params=params or None)
    made = UrlMaker(httpx.URL(base)).url(path, params)
    assert (made.scheme, made.host, made.port) == (expected.scheme, expected.host, expected.port)
    assert made.raw_path == expected.raw_path
    assert made.path == expected.path
    assert dict(made.params) == dict(expected.params)


def test_an_unquoted_path_takes_httpx_route() -> None:
    """A raw space, quote or non-ASCII character is escaped, never sent as it is."""
    made = UrlMaker(httpx.URL("http://127.0.0.1/xnat")).url('/data/a b/"é;$(x)', {"k": "v w"})
    assert made.raw_path == b"/xnat/data/a%20b/%22%C3%A9;$(x)?k=v+w"
