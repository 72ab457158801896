"""The committed file written by sops 3.11 decrypts with sopsgen to its committed plaintext."""

from __future__ import annotations

from pathlib import Path

from sopsgen.keys.discovery import discover_identities
from sopsgen.sops.document import decrypt_document, dump_plaintext, load_plaintext
from sopsgen.sops.tree import to_python

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sops-interop"
DEMO_KEY = EXAMPLE.parent / "lightrun" / "demo-DO-NOT-USE.agekey"


def test_sops_written_file_decrypts_to_the_plaintext() -> None:
    identities = discover_identities({"SOPS_AGE_KEY_FILE": str(DEMO_KEY), "HOME": "/nonexistent"})
    encrypted = (EXAMPLE / "app.sops.yaml").read_bytes()
    doc = decrypt_document(encrypted, "yaml", identities, name="app.sops.yaml")
    plain = load_plaintext((EXAMPLE / "app.yaml").read_bytes(), "yaml")
    assert [to_python(b) for b in doc.branches] == [to_python(b) for b in plain]
    # The comment was encrypted by sops and comes back in place.
    assert dump_plaintext(doc.branches, "yaml").startswith(b"# Application settings")
    assert b"visible-on-purpose" in encrypted  # the _unencrypted suffix stayed clear
    assert b"demo-password-not-secret" not in encrypted
