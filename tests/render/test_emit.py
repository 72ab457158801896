from __future__ import annotations

import json

import yaml
from hypothesis import given
from hypothesis import strategies as st

from sopsgen.render.emit import dump_json, dump_yaml, scalar

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
KEYS = st.from_regex(r"[-._a-zA-Z0-9]{1,20}", fullmatch=True)


@given(TEXT)
def test_scalar_round_trips_as_a_string(text: str) -> None:
    assert yaml.safe_load(f"k: {scalar(text)}\n") == {"k": text}


def test_ambiguous_words_are_quoted() -> None:
    for word in ("true", "No", "on", "null", "~", "1e3", "0x1F", "012", ".inf", "-", "a: b", ""):
        assert scalar(word).startswith('"'), word
    assert scalar("SPRING_DATASOURCE_PASSWORD") == "SPRING_DATASOURCE_PASSWORD"
    assert scalar("YWRtaW4=") == "YWRtaW4="


@given(st.lists(st.dictionaries(KEYS, st.one_of(TEXT, st.dictionaries(KEYS, TEXT)), max_size=5)))
def test_yaml_and_json_streams_round_trip(docs: list[dict[str, object]]) -> None:
    docs = [d for d in docs if d]
    out = dump_yaml(docs)
    assert list(yaml.safe_load_all(out)) == docs
    if docs:
        assert out.endswith(b"\n")
        assert not out.endswith(b"\n\n")
    text, pos, decoded = dump_json(docs).decode(), 0, []
    while pos < len(text):
        obj, pos = json.JSONDecoder().raw_decode(text, pos)
        decoded.append(obj)
        pos += 1
    assert decoded == docs


def test_layout_is_fixed() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "a", "labels": {}},
        "data": {"K": "dg=="},
        "items": [{"x": "1"}, "y"],
    }
    assert dump_yaml([doc, {"kind": "B"}]) == (
        b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n  labels: {}\ndata:\n  K: dg==\n"
        b'items:\n  - x: "1"\n  - "y"\n---\nkind: B\n'
    )
