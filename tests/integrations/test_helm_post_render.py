"""`post_render`: ring mounts, rollout digest, byte-exact pass-through, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sopsgen.errors import ConfigError, FormatError
from sopsgen.generate.spec import Spec, load_spec
from sopsgen.integrations.helm import (
    DIGEST_ANNOTATION,
    PostRenderOptions,
    describe_secrets,
    post_render,
    split_documents,
)
from sopsgen.render.emit import dump_yaml
from sopsgen.render.secret import build_secrets

CHART = (Path(__file__).parent / "data" / "lightrun-chart.yaml").read_bytes()
RING = {f"encryption-key-{i}": f"key-{i}-" + "A" * 38 for i in range(3)}

SPEC = """\
apiVersion: sopsgen.io/v1alpha1
kind: SecretGenerator
metadata: {name: lightrun}
namespace: lightrun
values:
  encryption-key: {generate: bytes, length: 32, encoding: base64, ring: true}
  db-password: {generate: password}
secrets:
  - name: lightrun-backend
    data:
      SPRING_DATASOURCE_PASSWORD: db-password
      encryption-key-*: encryption-key
  - name: lightrun-keycloak
    data: {DB_PASSWORD: db-password}
"""

FIX = PostRenderOptions(fix_ring_mounts=True)
ROLL = PostRenderOptions(fix_ring_mounts=True, rollout_on_change=True)


@pytest.fixture
def spec(tmp_path: Path) -> Spec:
    path = tmp_path / "sopsgen.yaml"
    path.write_text(SPEC)
    return load_spec(path)


def run(spec: Spec, stream: bytes, options: PostRenderOptions, **stored: str) -> bytes:
    values = {**RING, "db-password": "pw-" + "x" * 29, **stored}
    manifests = build_secrets(spec, values)
    return post_render(stream, describe_secrets([spec], manifests), dump_yaml(manifests), options)


def documents(stream: bytes) -> list[dict[str, object]]:
    return [d for d in yaml.safe_load_all(stream) if d is not None]


def by_name(stream: bytes, kind: str, name: str) -> dict[str, object]:
    docs = documents(stream)
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)  # type: ignore[index]


def volume(deployment: dict[str, object], name: str) -> dict[str, object]:
    volumes = deployment["spec"]["template"]["spec"]["volumes"]  # type: ignore[index]
    return next(v for v in volumes if v["name"] == name)


def chunks(stream: bytes) -> list[str]:
    return split_documents(stream.decode())


MEMBERS = [{"key": f"encryption-key-{i}", "path": f"encryption-key-{i}"} for i in range(3)]


def test_every_ring_member_is_projected_in_backend_and_crons(spec: Spec) -> None:
    out = run(spec, CHART, FIX)
    for name in ("lightrun-backend", "lightrun-crons"):
        keys = volume(by_name(out, "Deployment", name), "encryption-keys")
        assert keys == {
            "name": "encryption-keys",
            "secret": {"secretName": "lightrun-backend", "items": MEMBERS, "optional": True},
        }


def test_other_volumes_and_mounts_are_untouched(spec: Spec) -> None:
    before, after = by_name(CHART, "Deployment", "lightrun-backend"), None
    after = by_name(run(spec, CHART, FIX), "Deployment", "lightrun-backend")
    assert volume(after, "certs") == volume(before, "certs")
    assert volume(after, "tmp") == volume(before, "tmp")
    containers = after["spec"]["template"]["spec"]["containers"]  # type: ignore[index]
    assert containers == before["spec"]["template"]["spec"]["containers"]  # type: ignore[index]


def test_untouched_documents_are_byte_identical(spec: Spec) -> None:
    source, out = chunks(CHART), chunks(run(spec, CHART, FIX))
    assert out[0] == source[0]  # the ConfigMap, comments and odd scalars included
    assert out[3] == source[3]  # the Service
    assert b"# Source: lightrun/templates/crons-deployment.yaml" in run(spec, CHART, FIX)


def test_edited_documents_keep_their_comments_and_other_lines(spec: Spec) -> None:
    source, out = chunks(CHART)[1], chunks(run(spec, CHART, FIX))[1]
    assert "# the chart's lookup found nothing" in out
    removed = [line for line in source.splitlines() if line not in out.splitlines()]
    assert removed == []  # only lines were added


def test_second_pass_is_idempotent(spec: Spec) -> None:
    edit_only = PostRenderOptions(fix_ring_mounts=True, rollout_on_change=True, append=False)
    once = run(spec, CHART, edit_only)
    assert once != CHART
    assert run(spec, once, edit_only) == once
    appended = run(spec, CHART, ROLL)
    assert appended.startswith(once)


def test_secrets_are_appended_after_the_stream(spec: Spec) -> None:
    out = run(spec, CHART, PostRenderOptions())
    assert out.startswith(CHART)  # no edit asked: the input is kept byte for byte
    tail = documents(out[len(CHART) :])
    assert [d["metadata"]["name"] for d in tail] == ["lightrun-backend", "lightrun-keycloak"]  # type: ignore[index]


def test_ring_shrink_after_retire_and_other_items_keep_their_place(spec: Spec) -> None:
    stream = b"""\
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: lightrun}
spec:
  containers: [{name: c, image: x}]
  volumes:
  - name: keys
    secret:
      secretName: lightrun-backend
      items:
      - key: SPRING_DATASOURCE_PASSWORD
        path: db
      - key: encryption-key-0
        path: encryption-key-0
        mode: 0400
      - key: encryption-key-1
        path: encryption-key-1
"""
    ring = {"encryption-key-1": RING["encryption-key-1"], "encryption-key-2": "k2" + "B" * 42}
    values = {"db-password": "pw-" + "x" * 29, **ring}
    manifests = build_secrets(spec, values)
    out = post_render(stream, describe_secrets([spec], manifests), b"", FIX)
    items = documents(out)[0]["spec"]["volumes"][0]["secret"]["items"]  # type: ignore[index]
    assert items == [
        {"key": "SPRING_DATASOURCE_PASSWORD", "path": "db"},
        {"key": "encryption-key-1", "path": "encryption-key-1", "mode": 0o400},
        {"key": "encryption-key-2", "path": "encryption-key-2", "mode": 0o400},
    ]
    assert b"mode: 0400" in out  # the original spelling of the mode is kept


@pytest.mark.parametrize(
    ("kind", "template_path"),
    [
        ("StatefulSet", "spec: {template: TEMPLATE}"),
        ("DaemonSet", "spec: {template: TEMPLATE}"),
        ("ReplicaSet", "spec: {template: TEMPLATE}"),
        ("Job", "spec: {template: TEMPLATE}"),
        ("CronJob", "spec: {jobTemplate: {spec: {template: TEMPLATE}}}"),
    ],
)
def test_every_pod_template_kind_flow_style(spec: Spec, kind: str, template_path: str) -> None:
    template = (
        "{metadata: {labels: {a: b}}, spec: {containers: [{name: c}], volumes: [{name: k, "
        "secret: {secretName: lightrun-backend, items: [{key: encryption-key-0, "
        "path: encryption-key-0}]}}]}}"
    )
    body = f"apiVersion: v1\nkind: {kind}\nmetadata: {{name: w}}\n"
    stream = (body + template_path.replace("TEMPLATE", template) + "\n").encode()
    out = run(spec, stream, ROLL)
    doc = documents(out)[0]
    node = doc["spec"]
    if kind == "CronJob":
        node = node["jobTemplate"]["spec"]  # type: ignore[index]
    tmpl = node["template"]  # type: ignore[index]
    assert tmpl["spec"]["volumes"][0]["secret"]["items"] == MEMBERS
    assert DIGEST_ANNOTATION in tmpl["metadata"]["annotations"]
    assert tmpl["metadata"]["labels"] == {"a": "b"}


def test_list_kind_items_are_rewritten(spec: Spec) -> None:
    deployment = documents(CHART)[2]
    stream = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [deployment]}).encode()
    out = run(spec, stream, FIX)
    listed = documents(out)[0]["items"][0]  # type: ignore[index]
    assert volume(listed, "encryption-keys")["secret"]["items"] == MEMBERS


def test_rollout_digest_is_deterministic_and_follows_the_keys(spec: Spec) -> None:
    def digest(out: bytes, name: str) -> str:
        deployment = by_name(out, "Deployment", name)
        return deployment["spec"]["template"]["metadata"]["annotations"][DIGEST_ANNOTATION]  # type: ignore[index, no-any-return]

    first, again = run(spec, CHART, ROLL), run(spec, CHART, ROLL)
    assert first == again
    rotated = run(spec, CHART, ROLL, **{"encryption-key-3": "k3" + "C" * 42})
    assert digest(first, "lightrun-backend") != digest(rotated, "lightrun-backend")
    assert len(digest(first, "lightrun-crons")) == 64
    annotations = by_name(first, "Deployment", "lightrun-backend")["spec"]["template"]["metadata"]  # type: ignore[index]
    assert annotations["annotations"]["checksum/config"] == "0d3c4d2a"
    assert RING["encryption-key-0"].encode() not in first.split(b"kind: Secret")[0]


def test_rollout_adds_metadata_when_the_template_has_none(spec: Spec) -> None:
    out = run(spec, CHART, ROLL)
    crons = by_name(out, "Deployment", "lightrun-crons")
    assert set(crons["spec"]["template"]["metadata"]["annotations"]) == {DIGEST_ANNOTATION}  # type: ignore[index]


def test_other_namespace_is_not_touched(spec: Spec) -> None:
    stream = CHART.replace(
        b"namespace: lightrun\nspec:\n  template:", b"namespace: other\nspec:\n  template:"
    )
    out = run(spec, stream, FIX)
    assert chunks(out)[2] == chunks(stream)[2]


# ---------------------------------------------------------------------------- bad input


def test_empty_stdin_is_an_error_unless_allowed(spec: Spec) -> None:
    for stream in (b"", b"\n", b"---\n# Source: x.yaml\n---\n"):
        with pytest.raises(FormatError, match="no manifests"):
            run(spec, stream, FIX)
    out = run(spec, b"", PostRenderOptions(allow_empty=True))
    assert [d["kind"] for d in documents(out)] == ["Secret", "Secret"]


def test_not_yaml_is_a_clear_error_naming_the_document(spec: Spec) -> None:
    stream = CHART + b"---\n# Source: broken.yaml\nkind: [unclosed\n"
    with pytest.raises(FormatError, match=r"document 5 \(broken.yaml\) is not valid YAML at line"):
        run(spec, stream, FIX)
    with pytest.raises(FormatError, match="not UTF-8"):
        run(spec, b"\xff\xfe", FIX)


def test_non_mapping_documents_and_empty_ones_pass_through(spec: Spec) -> None:
    stream = b"just a string\n---\n- a\n- b\n---\n---\n# only a comment\n"
    out = run(spec, stream, ROLL)
    assert out.startswith(stream)


def test_a_list_is_never_dropped(spec: Spec) -> None:
    item = b'{"kind": "ConfigMap", "metadata": {"name": "a"}}'
    stream = b'{"apiVersion": "v1", "kind": "List", "items": [' + item + b"]}\n"
    out = run(spec, stream, ROLL)
    assert out.startswith(stream)


def test_a_secret_already_in_the_stream_is_refused(spec: Spec) -> None:
    stream = (
        b"apiVersion: v1\nkind: Secret\nmetadata: {name: lightrun-backend, namespace: lightrun}\n"
    )
    with pytest.raises(ConfigError, match="already has a Secret named 'lightrun-backend'"):
        run(spec, stream, FIX)
    out = run(spec, stream, PostRenderOptions(append=False))
    assert out == stream
