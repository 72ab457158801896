"""Which leaves get encrypted: the six selection settings and `mac_only_encrypted`."""

from __future__ import annotations

import re
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field, fields

from sopsgen.errors import ConfigError
from sopsgen.sops.tree import Comment, Leaf

DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted"

SELECTION_FIELDS = (
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
)


@dataclass(frozen=True)
class Selection:
    """At most one rule is set; none set means `unencrypted_suffix: _unencrypted`."""

    unencrypted_suffix: str | None = None
    encrypted_suffix: str | None = None
    unencrypted_regex: str | None = None
    encrypted_regex: str | None = None
    unencrypted_comment_regex: str | None = None
    encrypted_comment_regex: str | None = None
    mac_only_encrypted: bool = False
    _compiled: dict[str, re.Pattern[str]] = field(
        default_factory=dict, init=False, compare=False, repr=False, hash=False
    )

    def __post_init__(self) -> None:
        chosen = self.chosen()
        if len(chosen) > 1:
            raise ConfigError(
                f"only one selection setting may be used, found {', '.join(chosen)}",
                hint="keep one of encrypted_regex, unencrypted_regex, the suffixes "
                "and the comment regexes",
            )
        for name in chosen:
            if name.endswith("regex"):
                try:
                    self._compiled[name] = re.compile(getattr(self, name))
                except re.error as exc:
                    raise ConfigError(f"{name} is not a valid regular expression: {exc}") from exc

    @classmethod
    def from_fields(
        cls, settings: AbcMapping[str, str], *, mac_only_encrypted: bool = False
    ) -> Selection:
        """A selection from `name -> value` settings (names as sops spells them)."""
        unknown = sorted(set(settings) - set(SELECTION_FIELDS))
        if unknown:
            raise ConfigError(f"unknown selection setting {', '.join(unknown)}")
        return cls(
            unencrypted_suffix=settings.get("unencrypted_suffix"),
            encrypted_suffix=settings.get("encrypted_suffix"),
            unencrypted_regex=settings.get("unencrypted_regex"),
            encrypted_regex=settings.get("encrypted_regex"),
            unencrypted_comment_regex=settings.get("unencrypted_comment_regex"),
            encrypted_comment_regex=settings.get("encrypted_comment_regex"),
            mac_only_encrypted=mac_only_encrypted,
        )

    def chosen(self) -> list[str]:
        return [name for name in SELECTION_FIELDS if getattr(self, name) is not None]

    def with_default(self) -> Selection:
        """The selection sops applies: the default suffix when no rule is set."""
        if self.chosen():
            return self
        return Selection(
            unencrypted_suffix=DEFAULT_UNENCRYPTED_SUFFIX,
            mac_only_encrypted=self.mac_only_encrypted,
        )

    def as_dict(self) -> dict[str, str | bool]:
        out: dict[str, str | bool] = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name in SELECTION_FIELDS and getattr(self, f.name) is not None
        }
        if self.mac_only_encrypted:
            out["mac_only_encrypted"] = True
        return out

    def encrypts(self, leaf: Leaf) -> bool:
        """Decide for one leaf, in the order sops applies the rules."""
        path = leaf.path
        if self.unencrypted_suffix is not None:
            return not any(key.endswith(self.unencrypted_suffix) for key in path)
        if self.encrypted_suffix is not None:
            return any(key.endswith(self.encrypted_suffix) for key in path)
        if self.unencrypted_regex is not None:
            pattern = self._compiled["unencrypted_regex"]
            return not any(pattern.search(key) for key in path)
        if self.encrypted_regex is not None:
            pattern = self._compiled["encrypted_regex"]
            return any(pattern.search(key) for key in path)
        if self.unencrypted_comment_regex is not None:
            pattern = self._compiled["unencrypted_comment_regex"]
            return not any(pattern.search(text) for level in leaf.comments for text in level)
        if self.encrypted_comment_regex is not None:
            pattern = self._compiled["encrypted_comment_regex"]
            return any(pattern.search(text) for text in _active_comments(leaf))
        return True


def _active_comments(leaf: Leaf) -> list[str]:
    """The comment stack for `encrypted_comment_regex`: a comment never selects itself."""
    texts = [text for level in leaf.comments for text in level]
    if isinstance(leaf.value, Comment) and texts:
        texts.pop()
    return texts
