"""The fast query-string decoder reads every input exactly as the standard library does.

``/sparql`` decodes its parameters with ``server.query_string.parse_pairs``
while every other route reads them through Starlette (``parse_qsl``); a
difference would make the same URL mean two things.
"""

from urllib.parse import parse_qsl, quote

from hypothesis import given, settings
from hypothesis import strategies as st

from openskies.server.body import parse_form
from openskies.server.query_string import parse_pairs

# Bytes that matter to the decoder, plus some that do not.
_ALPHABET = [bytes([byte]) for byte in b"%+&=\\xAf09Gz ;#"] + [b"\xc3", b"\xa9", b"\xff"]


def _standard(raw: bytes) -> list[tuple[str, str]]:
    return parse_qsl(raw.decode("latin-1"), keep_blank_values=True)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_ALPHABET), max_size=40).map(b"".join))
def test_any_bytes_decode_as_parse_qsl_does(raw: bytes) -> None:
    assert parse_pairs(raw) == _standard(raw)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=30), st.text(max_size=60)), max_size=4))
def test_encoded_parameters_round_trip(pairs: list[tuple[str, str]]) -> None:
    raw = "&".join(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in pairs)
    assert parse_pairs(raw.encode()) == _standard(raw.encode())


def test_a_sparql_query_with_escapes_and_a_stray_percent() -> None:
    query = 'SELECT * { ?s ?p "50%" FILTER(REGEX(?s, "\\\\d+")) } # é'
    raw = ("query=" + quote(query, safe="") + "&format=json&default-graph-uri=").encode()
    assert parse_pairs(raw) == [("query", query), ("format", "json"), ("default-graph-uri", "")]
    assert parse_pairs(b"query=50%&x=%4") == [("query", "50%"), ("x", "%4")]


def test_form_bodies_decode_as_utf8() -> None:
    assert parse_form(b"query=caf%C3%A9+%C3%A9") == [("query", "café é")]
    assert parse_form("query=café".encode()) == [("query", "café")]
