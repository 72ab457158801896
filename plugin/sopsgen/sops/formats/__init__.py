"""File formats: each module turns bytes into branches plus the raw `sops` metadata, and back.

Every format module exposes:

    load(data: bytes) -> Loaded
    dump(branches: list[Mapping], metadata: dict[str, object] | None) -> bytes

`metadata` is the `sops` block as plain JSON-like data, in sops's field order (see
`sops.metadata`); `None` when writing plaintext (decrypt output).
"""
