"""Layout checks against the real sops binary (both directions of the format layer)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pyrage
import pytest

from sopsgen.sops.formats import binary, dotenv, ini, json
from sopsgen.sops.formats.base import Loaded
from sopsgen.sops.tree import Comment, Mapping, Sequence

pytestmark = pytest.mark.interop

ENC = "ENC[AES256_GCM,"

JSON_PLAIN = (
    b'{"a": 1, "b": [1.5, "x<>&\\u00e9", true, null, {}, []], '
    b'"c": {"d": 1e21, "e": 1e-7}, "a": "dup", "emp": "", "keep_unencrypted": 7}'
)
ENV_PLAIN = b'# comment\nFOO=bar\nexport B=2\n  C = 3 \nML=line1\\nline2\n#\nQ="q"\nE=\n'
INI_PLAIN = (
    b"; top comment\nglobal = 1\n[database]\n; above user\nuser = admin ; inline\n"
    b"password=secret\n\n# above sec\n[other]\nk = v\n[database]\nx = y\n"
)
BIN_PLAIN = b"ab\x00\xff\ncd\x00"


class Sops:
    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        exe = shutil.which("sops")
        if exe is None:
            pytest.skip("the sops binary is not on PATH")
        self.exe = exe
        self.tmp = tmp
        identity = pyrage.x25519.Identity.generate()
        self.recipient = str(identity.to_public())
        monkeypatch.setenv("SOPS_AGE_KEY", str(identity))

    def run(self, *args: str) -> bytes:
        done = subprocess.run([self.exe, *args], capture_output=True, check=False, cwd=self.tmp)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        return done.stdout

    def encrypt(self, name: str, data: bytes) -> bytes:
        (self.tmp / name).write_bytes(data)
        encrypted = self.run("encrypt", "--age", self.recipient, name)
        (self.tmp / ("enc." + name)).write_bytes(encrypted)
        return encrypted

    def decrypt(self, name: str) -> bytes:
        return self.run(
            "decrypt", "--input-type", _type(name), "--output-type", _type(name), "enc." + name
        )


def _type(name: str) -> str:
    return {".json": "json", ".env": "dotenv", ".ini": "ini"}.get(Path(name).suffix, "binary")


@pytest.fixture
def sops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sops:
    return Sops(tmp_path, monkeypatch)


def check_metadata(loaded: Loaded, recipient: str, *, suffix: bool = True) -> None:
    meta = loaded.metadata
    assert meta is not None
    age = meta["age"]
    assert isinstance(age, list)
    assert age[0]["recipient"] == recipient
    assert str(age[0]["enc"]).startswith("-----BEGIN AGE ENCRYPTED FILE-----\n")
    assert str(meta["mac"]).startswith(ENC)
    assert str(meta["lastmodified"]).endswith("Z")
    assert meta["version"] == "3.11.0"
    assert ("unencrypted_suffix" in meta) is suffix


def is_enc(value: object, type_name: str) -> bool:
    return isinstance(value, str) and value.startswith(ENC) and value.endswith(f"type:{type_name}]")


def test_json(sops: Sops) -> None:
    encrypted = sops.encrypt("f.json", JSON_PLAIN)
    loaded = json.load(encrypted)
    check_metadata(loaded, sops.recipient)
    (branch,) = loaded.branches
    assert branch.keys() == ["a", "b", "c", "a", "emp", "keep_unencrypted"]
    assert is_enc(branch[0][1], "float")  # type: ignore[index]
    b = branch.get("b")
    assert isinstance(b, Sequence)
    assert is_enc(b[0], "float")
    assert is_enc(b[1], "str")
    assert is_enc(b[2], "bool")
    assert b[3:] == [None, Mapping(), Sequence()]
    assert is_enc(branch[3][1], "str")  # type: ignore[index]
    assert branch.get("emp") == ""
    assert branch.get("keep_unencrypted") == 7.0
    assert json.dump(loaded.branches, loaded.metadata) == encrypted

    decrypted = sops.decrypt("f.json")
    assert json.load(decrypted) == json.load(JSON_PLAIN)
    assert json.dump(json.load(JSON_PLAIN).branches, None) == decrypted


def test_dotenv(sops: Sops) -> None:
    encrypted = sops.encrypt("f.env", ENV_PLAIN)
    loaded = dotenv.load(encrypted)
    check_metadata(loaded, sops.recipient)
    (branch,) = loaded.branches
    assert branch.keys() == ["FOO", "export B", "  C ", "ML", "Q", "E"]
    assert isinstance(branch[0], Comment)
    assert is_enc(branch[0].text, "comment")
    assert branch[5] == Comment("")
    assert all(is_enc(v, "str") for k, v in branch.entries() if k != "E")
    assert branch.get("E") == ""
    assert dotenv.dump(loaded.branches, loaded.metadata) == encrypted

    decrypted = sops.decrypt("f.env")
    assert dotenv.load(decrypted) == dotenv.load(ENV_PLAIN)
    assert dotenv.dump(dotenv.load(ENV_PLAIN).branches, None) == decrypted


def test_ini(sops: Sops) -> None:
    encrypted = sops.encrypt("f.ini", INI_PLAIN)
    loaded = ini.load(encrypted)
    check_metadata(loaded, sops.recipient)
    (branch,) = loaded.branches
    assert branch.keys() == ["DEFAULT", "database", "other", "database"]
    default, database, other, _ = (v for _, v in branch.entries())
    assert isinstance(default, Mapping)
    assert default.keys() == ["global"]
    assert isinstance(default[1], Comment)
    assert is_enc(default[1].text, "comment")
    assert isinstance(database, Mapping)
    assert database.keys() == ["user", "password"]
    assert isinstance(database[1], Comment)
    assert isinstance(other, Mapping)
    assert isinstance(other[0], Comment)
    assert all(
        is_enc(v, "str") for v in (database.get("user"), database.get("password"), other.get("k"))
    )
    # sops writes [sops] in random order: compare what it means, not its bytes.
    assert ini.load(ini.dump(loaded.branches, loaded.metadata)) == loaded
    without_metadata = encrypted.split(b"\n[sops]\n")[0]
    assert ini.dump(loaded.branches, None) == without_metadata

    decrypted = sops.decrypt("f.ini")
    plain = ini.load(INI_PLAIN)
    assert ini.load(decrypted) == plain
    assert ini.dump(plain.branches, None) == decrypted


def test_binary(sops: Sops) -> None:
    encrypted = sops.encrypt("f.bin", BIN_PLAIN)
    loaded = binary.load(encrypted)
    check_metadata(loaded, sops.recipient, suffix=False)
    (branch,) = loaded.branches
    assert branch.keys() == ["data"]
    assert is_enc(branch.get("data"), "str")
    assert binary.dump(loaded.branches, loaded.metadata) == encrypted

    decrypted = sops.decrypt("f.bin")
    assert decrypted == BIN_PLAIN
    assert binary.load(decrypted) == binary.load(BIN_PLAIN)
    assert binary.dump(binary.load(BIN_PLAIN).branches, None) == BIN_PLAIN


def test_sops_reads_what_we_write(sops: Sops) -> None:
    """Our dump of sops's own file, in every format, decrypts with sops again."""
    for name, data, module in (
        ("g.json", JSON_PLAIN, json),
        ("g.env", ENV_PLAIN, dotenv),
        ("g.ini", INI_PLAIN, ini),
        ("g.bin", BIN_PLAIN, binary),
    ):
        loaded = module.load(sops.encrypt(name, data))
        (sops.tmp / ("enc." + name)).write_bytes(module.dump(loaded.branches, loaded.metadata))
        assert module.load(sops.decrypt(name)) == module.load(data)
