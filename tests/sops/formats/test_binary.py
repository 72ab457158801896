from __future__ import annotations

import pytest

from sopsgen.errors import FormatError
from sopsgen.sops.formats import binary as fmt
from sopsgen.sops.tree import Mapping

METADATA = {"lastmodified": "T", "mac": "ENC[m]", "version": "3.11.0"}


@pytest.mark.parametrize(
    ("data", "value"),
    [(b"ab\x00\xff\ncd", b"ab\x00\xff\ncd"), (b"text\x00\n", "text\x00\n"), (b"", "")],
)
def test_plaintext_kept_exactly(data: bytes, value: object) -> None:
    loaded = fmt.load(data)
    assert loaded.branches == [Mapping([("data", value)])]
    assert loaded.metadata is None
    assert fmt.dump(loaded.branches, None) == data


def test_encrypted_is_json() -> None:
    out = fmt.dump([Mapping([("data", "ENC[x]")])], METADATA)
    assert out == (
        b'{\n\t"data": "ENC[x]",\n\t"sops": {\n\t\t"lastmodified": "T",\n\t\t"mac": "ENC[m]",\n'
        b'\t\t"version": "3.11.0"\n\t}\n}\n'
    )
    loaded = fmt.load(out)
    assert loaded.branches == [Mapping([("data", "ENC[x]")])]
    assert loaded.metadata == METADATA


def test_json_without_sops_is_plain_data() -> None:
    data = b'{"data": "x"}\n'
    assert fmt.load(data).branches == [Mapping([("data", data.decode())])]


def test_no_data_string_hints_at_output_type() -> None:
    with pytest.raises(FormatError) as info:
        fmt.dump([Mapping([("other", "x")])], None)
    assert info.value.hint is not None
    assert "output type" in info.value.hint
