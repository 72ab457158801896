"""Complete specs for known charts, shipped as package data (`sopsgen init --preset`)."""

from __future__ import annotations

from importlib import resources

from sopsgen.errors import ConfigError

_PACKAGE = "sopsgen.generate"
_FOLDER = "presets"


def preset_names() -> list[str]:
    """Every preset shipped, sorted: the file names without `.yaml`."""
    folder = resources.files(_PACKAGE).joinpath(_FOLDER)
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


def preset_text(name: str) -> str:
    """The spec text of a preset, comments included, as `sopsgen init` writes it."""
    if name not in preset_names():
        raise ConfigError(
            f"unknown preset {name!r}", hint=f"available presets: {', '.join(preset_names())}"
        )
    return resources.files(_PACKAGE).joinpath(_FOLDER, f"{name}.yaml").read_text(encoding="utf-8")
