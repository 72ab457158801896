"""Helm post-renderer: manifests in, the same manifests plus the spec's Secrets out.

The stream is split into documents textually (a line starting with `---` always ends a
document in YAML, even inside a block scalar). A document is parsed only when it may need
an edit, and edits are splices of its text at positions the YAML parser reports, so every
byte outside an edited span (comments, order, quoting, `# Source:` lines) is kept.

Two optional edits, both idempotent:

- ring mounts: a `secret` volume that points at a rendered Secret and whose `items` select
  ring members (`key: encryption-key-0`) gets exactly the current members, in index order,
  at the place of the first one (`path` = key; the first member's `mode` is kept; other
  items keep their place). The Lightrun chart lists only `encryption-key-0` when `lookup`
  cannot see the cluster, so a rotated key would otherwise never reach the pods.
- rollout: every pod template that references a rendered Secret (volume, projected volume,
  `envFrom`, `env[].valueFrom.secretKeyRef`) carries `sopsgen.io/secret-digest`, a SHA-256
  over those Secrets' manifests, so pods restart exactly when their keys change.

Pure: bytes and manifests in, bytes out. Errors are `FormatError`/`ConfigError`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sopsgen.errors import ConfigError, FormatError
from sopsgen.generate.spec import Spec, wildcard_prefix
from sopsgen.render.emit import dump_yaml, scalar

DIGEST_ANNOTATION = "sopsgen.io/secret-digest"

# kind -> path from the object to its pod template (a Pod is its own template).
POD_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_SEPARATOR = re.compile(r"---(?:[ \t\r]|$)")
_LINES = re.compile(r"[^\n]*\n|[^\n]+$")
_BLANK_OR_COMMENT = re.compile(r"^\s*(#.*)?$")


@dataclass(frozen=True)
class RenderedSecret:
    """What the post-renderer needs to know about one rendered Secret (no values)."""

    name: str
    namespace: str | None
    ring_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    digest: str = ""  # SHA-256 of the Secret's manifest bytes

    def ring_of(self, key: str) -> str | None:
        """The wildcard prefix whose members include `key` (`encryption-key-` for `...-3`)."""
        for prefix in self.ring_keys:
            rest = key[len(prefix) :]
            if key.startswith(prefix) and rest.isdigit() and str(int(rest)) == rest:
                return prefix
        return None


@dataclass(frozen=True)
class PostRenderOptions:
    fix_ring_mounts: bool = False
    rollout_on_change: bool = False
    append: bool = True  # append the Secrets (off: only rewrite mounts/annotations)
    allow_empty: bool = False  # accept a stream with no manifest at all


def describe_secrets(
    specs: Sequence[Spec], manifests: Sequence[Mapping[str, Any]]
) -> list[RenderedSecret]:
    """One `RenderedSecret` per rendered manifest, with the ring keys its spec declares."""
    by_id = {(s.name, s.namespace): s for spec in specs for s in spec.secrets}
    out = []
    for manifest in manifests:
        meta = manifest["metadata"]
        secret = by_id.get((meta["name"], meta.get("namespace")))
        data = manifest.get("data") or {}
        rings: dict[str, tuple[str, ...]] = {}
        for key in secret.data if secret is not None else ():
            prefix = wildcard_prefix(key)
            if prefix is not None:
                rings[prefix] = _members(prefix, data)
        digest = hashlib.sha256(dump_yaml([manifest])).hexdigest()
        out.append(RenderedSecret(meta["name"], meta.get("namespace"), rings, digest))
    return out


def _members(prefix: str, data: Mapping[str, str]) -> tuple[str, ...]:
    found = [k for k in data if k.startswith(prefix) and k[len(prefix) :].isdigit()]
    return tuple(sorted(found, key=lambda k: int(k[len(prefix) :])))


def post_render(
    stream: bytes,
    secrets: Sequence[RenderedSecret],
    appended: bytes,
    options: PostRenderOptions,
) -> bytes:
    """The post-rendered stream: `stream` with the edits asked for, then `appended`."""
    text = _decode(stream)
    chunks = split_documents(text)
    if not options.allow_empty and not any(_has_content(chunk) for chunk in chunks):
        raise FormatError(
            "no manifests on stdin: refusing to print only the Secrets "
            "(an empty render upstream would make a GitOps tool prune everything)",
            hint="check the command that feeds the post-renderer (use `set -o pipefail`), "
            "or pass --allow-empty",
        )
    editor = _Editor(secrets, options)
    line = 1
    out = []
    for number, chunk in enumerate(chunks, start=1):
        out.append(editor.document(chunk, number, line))
        line += chunk.count("\n")
    result = "".join(out)
    if options.append and appended:
        if result and not result.endswith("\n"):
            result += "\n"
        result += ("---\n" if result.strip() else "") + appended.decode("utf-8")
    return result.encode("utf-8")


def split_documents(text: str) -> list[str]:
    """The stream cut before each `---` line; joining the parts gives `text` back."""
    chunks: list[str] = []
    current: list[str] = []
    for match in _LINES.finditer(text):
        line = match.group(0)
        if _SEPARATOR.match(line) and current:
            chunks.append("".join(current))
            current = []
        current.append(line)
    if current:
        chunks.append("".join(current))
    return chunks


def _decode(stream: bytes) -> str:
    try:
        return stream.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"the manifests on stdin are not UTF-8 text (byte {exc.start})",
            hint="the post-renderer reads YAML manifests, as `helm template` prints them",
        ) from None


def _has_content(chunk: str) -> bool:
    return any(
        not _BLANK_OR_COMMENT.match(line) and not _SEPARATOR.match(line) and line.strip() != "..."
        for line in chunk.splitlines()
    )


# ---------------------------------------------------------------------------- editing


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str


class _Editor:
    """Finds and applies the edits of one document at a time."""

    def __init__(self, secrets: Sequence[RenderedSecret], options: PostRenderOptions) -> None:
        self.secrets = list(secrets)
        self.options = options
        self.names = {s.name for s in self.secrets}

    def document(self, chunk: str, number: int, line: int) -> str:
        if not _has_content(chunk):
            return chunk
        nodes = _compose(chunk, number, line, fast=not self._may_edit(chunk))
        edits: list[_Edit] = []
        for node in nodes:
            if isinstance(node, MappingNode):
                edits.extend(self._resource(chunk, node, number))
        return _apply(chunk, edits)

    def _may_edit(self, chunk: str) -> bool:
        return bool(self.names) and any(name in chunk for name in self.names)

    def _resource(self, text: str, node: MappingNode, number: int) -> Iterator[_Edit]:
        kind = _scalar(_get(node, "kind"))
        items = _get(node, "items")
        if kind is not None and kind.endswith("List") and isinstance(items, SequenceNode):
            for item in items.value:
                if isinstance(item, MappingNode):
                    yield from self._resource(text, item, number)
            return
        namespace = _scalar(_get(_get(node, "metadata"), "namespace"))
        name = _scalar(_get(_get(node, "metadata"), "name"))
        if kind == "Secret" and self.options.append and self._match(name, namespace):
            raise ConfigError(
                f"document {number}: the input already has a Secret named {name!r}, "
                "which the spec renders too",
                hint="let sopsgen own it: turn the chart's own Secret off "
                "(Lightrun: general.deploy_secrets.enabled=false), or pass --no-append",
            )
        path = POD_TEMPLATES.get(kind or "")
        if path is None:
            return
        template = _path(node, path)
        if not isinstance(template, MappingNode):
            return
        if self.options.fix_ring_mounts:
            yield from self._ring_mounts(text, template, namespace, number)
        if self.options.rollout_on_change:
            yield from self._rollout(text, template, namespace)

    def _match(self, name: str | None, namespace: str | None) -> RenderedSecret | None:
        for secret in self.secrets:
            if secret.name == name and (
                namespace is None or secret.namespace is None or secret.namespace == namespace
            ):
                return secret
        return None

    # -- ring mounts

    def _ring_mounts(
        self, text: str, template: MappingNode, namespace: str | None, number: int
    ) -> Iterator[_Edit]:
        for volume in _seq(_get(_get(template, "spec"), "volumes")):
            source = _get(volume, "secret")
            secret = self._match(_scalar(_get(source, "secretName")), namespace)
            items = _get(source, "items")
            if secret is None or not isinstance(items, SequenceNode) or not secret.ring_keys:
                continue
            where = f"document {number}: volume {_scalar(_get(volume, 'name'))!r}"
            edit = _items_edit(text, items, secret, where)
            if edit is not None:
                yield edit

    # -- rollout annotation

    def _rollout(self, text: str, template: MappingNode, namespace: str | None) -> Iterator[_Edit]:
        used = sorted(
            {
                (s.name, s.digest)
                for name in _referenced_secrets(_get(template, "spec"))
                if (s := self._match(name, namespace)) is not None
            }
        )
        if not used:
            return
        joined = "".join(f"{name}\0{digest}\n" for name, digest in used)
        digest = hashlib.sha256(joined.encode("utf-8")).hexdigest()
        edit = _annotation_edit(text, template, DIGEST_ANNOTATION, digest)
        if edit is not None:
            yield edit


def _compose(chunk: str, number: int, line: int, *, fast: bool) -> list[Node]:
    """Parse one document. The C loader checks documents we leave alone; the Python one
    gives character offsets for the ones we may edit."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader) if fast else yaml.SafeLoader
    try:
        return [n for n in yaml.compose_all(chunk, Loader=loader) if n is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f" at line {line + mark.line}" if mark is not None else ""
        raise FormatError(
            f"document {number}{_source(chunk)} is not valid YAML{at}: {exc.problem}",
            hint="the post-renderer reads the manifests `helm template` prints",
        ) from None
    except yaml.YAMLError as exc:
        raise FormatError(f"document {number}{_source(chunk)} is not valid YAML: {exc}") from None


def _source(chunk: str) -> str:
    match = re.search(r"^# Source: (.+)$", chunk, re.MULTILINE)
    return f" ({match.group(1).strip()})" if match else ""


def _apply(text: str, edits: list[_Edit]) -> str:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


# ---------------------------------------------------------------------------- node helpers


def _get(node: Node | None, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    for key_node, value in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return value  # type: ignore[no-any-return]
    return None


def _path(node: Node | None, path: Iterable[str]) -> Node | None:
    for key in path:
        node = _get(node, key)
    return node


def _scalar(node: Node | None) -> str | None:
    if isinstance(node, ScalarNode) and node.tag != "tag:yaml.org,2002:null":
        return str(node.value)
    return None


def _seq(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def _referenced_secrets(pod_spec: Node | None) -> Iterator[str | None]:
    for volume in _seq(_get(pod_spec, "volumes")):
        yield _scalar(_path(volume, ("secret", "secretName")))
        for source in _seq(_path(volume, ("projected", "sources"))):
            yield _scalar(_path(source, ("secret", "name")))
    for list_name in _CONTAINER_LISTS:
        for container in _seq(_get(pod_spec, list_name)):
            for env_from in _seq(_get(container, "envFrom")):
                yield _scalar(_path(env_from, ("secretRef", "name")))
            for env in _seq(_get(container, "env")):
                yield _scalar(_path(env, ("valueFrom", "secretKeyRef", "name")))


# ---------------------------------------------------------------------------- items rewrite

_Fields = list[tuple[str, str]]  # (field name, value as source text), in order


def _items_edit(text: str, items: SequenceNode, secret: RenderedSecret, where: str) -> _Edit | None:
    """The splice that makes `items` list every current member of the ring it selects."""
    current = [_item_fields(text, item, where) for item in items.value]
    wanted = _wanted_items(current, secret)
    if wanted is None or wanted == current:
        return None
    if items.flow_style:
        body = ", ".join("{" + ", ".join(f"{k}: {v}" for k, v in item) + "}" for item in wanted)
        return _Edit(items.start_mark.index, items.end_mark.index, f"[{body}]")
    start, column = _block_start(text, items.value[0], where)
    end = _line_end(text, max(_node_end(item) for item in items.value))
    pad = " " * column
    lines = []
    for item in wanted:
        for index, (key, value) in enumerate(item):
            lines.append(f"{pad}{'- ' if index == 0 else '  '}{key}: {value}\n")
    return _Edit(start, end, "".join(lines))


def _item_fields(text: str, item: Node, where: str) -> _Fields:
    if not isinstance(item, MappingNode):
        raise FormatError(f"{where}: an entry of `items` is not a mapping")
    fields = []
    for key, value in item.value:
        if not isinstance(key, ScalarNode) or not isinstance(value, ScalarNode):
            raise FormatError(f"{where}: `items` entries must map field names to scalars")
        fields.append((str(key.value), text[value.start_mark.index : value.end_mark.index]))
    return fields


def _field(fields: _Fields, name: str) -> str | None:
    for key, value in fields:
        if key == name:
            return value
    return None


def _wanted_items(current: list[_Fields], secret: RenderedSecret) -> list[_Fields] | None:
    """Current items with each selected ring's members replaced by the whole ring."""
    keys = [yaml.safe_load(_field(item, "key") or "null") for item in current]
    rings = [secret.ring_of(key) if isinstance(key, str) else None for key in keys]
    if not any(rings):
        return None
    wanted: list[_Fields] = []
    done: set[str] = set()
    for item, ring in zip(current, rings):
        if ring is None:
            wanted.append(item)
            continue
        if ring in done:
            continue
        done.add(ring)
        mode = _field(item, "mode")
        for member in secret.ring_keys[ring]:
            fields = [("key", scalar(member)), ("path", scalar(member))]
            wanted.append([*fields, ("mode", mode)] if mode is not None else fields)
    return wanted


def _node_end(node: Node) -> int:
    if isinstance(node, MappingNode) and not node.flow_style and node.value:
        return _node_end(node.value[-1][1])
    return int(node.end_mark.index)


def _block_start(text: str, first: Node, where: str) -> tuple[int, int]:
    """(offset of the line holding the first `- `, column of the `-`)."""
    offset = first.start_mark.index
    line_start = text.rfind("\n", 0, offset) + 1
    prefix = text[line_start:offset]
    if prefix.strip() != "-":
        raise FormatError(
            f"{where}: cannot rewrite an `items` list laid out like this",
            hint="write each item on its own `- key: ...` line",
        )
    return line_start, prefix.index("-")


def _line_end(text: str, offset: int) -> int:
    newline = text.find("\n", offset)
    return len(text) if newline < 0 else newline + 1


# ---------------------------------------------------------------------------- annotation


def _annotation_edit(text: str, template: MappingNode, key: str, value: str) -> _Edit | None:
    metadata = _get(template, "metadata")
    if metadata is None:
        return _insert(text, template, "metadata", {"annotations": {key: value}})
    if not isinstance(metadata, MappingNode):
        return _replace_null(text, metadata, {"annotations": {key: value}})
    annotations = _get(metadata, "annotations")
    if annotations is None:
        return _insert(text, metadata, "annotations", {key: value})
    if not isinstance(annotations, MappingNode):
        return _replace_null(text, annotations, {key: value})
    existing = _get(annotations, key)
    if isinstance(existing, ScalarNode):
        if existing.value == value:
            return None
        return _Edit(existing.start_mark.index, existing.end_mark.index, scalar(value))
    return _insert(text, annotations, key, value)


_Value: TypeAlias = str | dict[str, "_Value"]


def _insert(text: str, mapping: MappingNode, key: str, value: _Value) -> _Edit:
    """Add `key: value` as the first entry of `mapping`, in the mapping's own style."""
    if mapping.flow_style or not mapping.value:
        at = mapping.start_mark.index
        if text[at : at + 1] != "{":
            raise FormatError("cannot add an annotation to a mapping written like this")
        rest = ", " if mapping.value else ""
        return _Edit(at + 1, at + 1, f"{scalar(key)}: {_flow(value)}{rest}")
    first = mapping.value[0][0]
    column = first.start_mark.column
    lines = _block(key, value, column)
    return _Edit(first.start_mark.index, first.start_mark.index, lines[column:] + " " * column)


def _replace_null(text: str, node: Node, value: dict[str, _Value]) -> _Edit:
    if _scalar(node) is not None or not isinstance(node, ScalarNode):
        raise FormatError("cannot add an annotation: pod template metadata is not a mapping")
    start, end = node.start_mark.index, node.end_mark.index
    lead = " " if start == end or text[start - 1 : start] == ":" else ""
    return _Edit(start, end, lead + _flow(value))


def _flow(value: _Value) -> str:
    if isinstance(value, str):
        return scalar(value)
    return "{" + ", ".join(f"{scalar(k)}: {_flow(v)}" for k, v in value.items()) + "}"


def _block(key: str, value: _Value, column: int) -> str:
    pad = " " * column
    if isinstance(value, str):
        return f"{pad}{scalar(key)}: {scalar(value)}\n"
    return f"{pad}{scalar(key)}:\n" + "".join(_block(k, v, column + 2) for k, v in value.items())
