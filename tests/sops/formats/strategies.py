"""Hypothesis strategies for format round-trip properties."""

from __future__ import annotations

from hypothesis import strategies as st

from sopsgen.sops.tree import Comment, Mapping, Sequence

# Text without lone surrogates (not representable in UTF-8 files).
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
keys = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=8)
finite = st.floats(allow_nan=False, allow_infinity=False)


def json_trees() -> st.SearchStrategy[Mapping]:
    scalars = st.one_of(st.none(), st.booleans(), finite, text)
    values = st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4).map(Sequence),
            st.lists(st.tuples(keys, inner), max_size=4).map(Mapping),
        ),
        max_leaves=12,
    )
    return st.lists(st.tuples(keys.filter(lambda k: k != "sops"), values), max_size=5).map(Mapping)


line_text = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\n\r"), max_size=12
)


def dotenv_trees() -> st.SearchStrategy[Mapping]:
    dotenv_key = line_text.filter(
        lambda k: bool(k) and "=" not in k and not k.startswith(("#", "sops_")) and "\\n" not in k
    )
    value = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r"), max_size=12)
    item = st.one_of(
        st.tuples(dotenv_key, value.filter(lambda v: "\\n" not in v)), line_text.map(Comment)
    )
    return st.lists(item, max_size=6).map(Mapping)
