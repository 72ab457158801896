"""`.sops.yaml`: discovery walk, rule matching, key parsing, settings and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopsgen.errors import ConfigError
from sopsgen.keys.base import Recipient
from sopsgen.sops.rules import find_config, load_rules

AGE1 = "age1xd369jn5q8sqnrrtg0kfylnk9lrxm29px3v7xkg45r5wglypd3kqsl4mq6"
AGE2 = "age1ys9ytest0000000000000000000000000000000000000000000000000"
FP = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"


def write(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / ".sops.yaml"
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------- discovery


def test_find_config_walks_up_from_start_dir(tmp_path: Path) -> None:
    config = write(tmp_path, "creation_rules: []\n")
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert find_config(deep) == config


def test_find_config_prefers_the_nearest(tmp_path: Path) -> None:
    write(tmp_path, "creation_rules: []\n")
    near = write(tmp_path / "a", "creation_rules: []\n")
    (tmp_path / "a" / "b").mkdir()
    assert find_config(tmp_path / "a" / "b") == near


def test_find_config_explicit_wins(tmp_path: Path) -> None:
    write(tmp_path, "creation_rules: []\n")
    explicit = tmp_path / "elsewhere.yaml"
    assert find_config(tmp_path, explicit) == explicit


def test_find_config_ignores_sops_yml_and_directories(tmp_path: Path) -> None:
    (tmp_path / ".sops.yml").write_text("creation_rules: []\n")
    (tmp_path / "x" / ".sops.yaml").mkdir(parents=True)
    assert find_config(tmp_path / "x") is None


def test_find_config_relative_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "creation_rules: []\n")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    found = find_config(Path())
    assert found is not None
    assert found.resolve() == (tmp_path / ".sops.yaml").resolve()


# ---------------------------------------------------------------------------- matching


RULES = f"""
creation_rules:
  - path_regex: ^sub/deeper/
    age: {AGE2}
  - path_regex: ^sub/.*\\.yaml$
    age: {AGE1}
  - path_regex: t9other
    pgp: {FP}
  - age: "{AGE1}, {AGE2}"
"""


def test_first_match_wins_on_relative_path(tmp_path: Path) -> None:
    config = load_rules(write(tmp_path, RULES))
    assert config.rule_for(tmp_path / "sub" / "deeper" / "b.yaml").index == 0
    assert config.rule_for(tmp_path / "sub" / "a.yaml").index == 1


def test_anchored_regex_does_not_see_absolute_prefix(tmp_path: Path) -> None:
    config = load_rules(write(tmp_path, RULES))
    assert config.match_subject(tmp_path / "sub" / "a.yaml") == "sub/a.yaml"


def test_outside_file_matches_absolute_path(tmp_path: Path) -> None:
    config = load_rules(write(tmp_path / "cfg", RULES))
    outside = tmp_path / "t9other" / "x.json"
    assert config.match_subject(outside) == str(outside)
    assert config.rule_for(outside).index == 2


def test_catch_all_and_relative_file_with_cwd(tmp_path: Path) -> None:
    config = load_rules(write(tmp_path, RULES))
    assert config.rule_for(Path("top.yaml")).index == 3
    assert config.rule_for(Path("a.yaml"), cwd=tmp_path / "sub").index == 1
    assert config.rule_for(Path("../sub/a.yaml"), cwd=tmp_path / "other").index == 1


def test_no_match_names_config_and_file(tmp_path: Path) -> None:
    config = load_rules(
        write(tmp_path, f"creation_rules:\n  - path_regex: ^prod/\n    age: {AGE1}\n")
    )
    with pytest.raises(ConfigError) as info:
        config.rule_for(tmp_path / "dev" / "s.yaml")
    assert "no creation rule in" in info.value.message
    assert str(tmp_path / ".sops.yaml") in info.value.message
    assert "dev/s.yaml" in info.value.message
    assert info.value.hint


def test_empty_config_has_no_rules(tmp_path: Path) -> None:
    config = load_rules(write(tmp_path, ""))
    assert config.rules == ()
    with pytest.raises(ConfigError):
        config.rule_for(tmp_path / "a.yaml")


# ---------------------------------------------------------------------------- keys


def test_comma_string_and_list_give_same_keys(tmp_path: Path) -> None:
    text = f"""
creation_rules:
  - path_regex: a
    age: " {AGE1} ,{AGE2} "
  - path_regex: b
    age: ["{AGE1}", " {AGE2}"]
"""
    config = load_rules(write(tmp_path, text))
    expected = [[Recipient("age", AGE1), Recipient("age", AGE2)]]
    assert config.rules[0].key_groups == expected
    assert config.rules[1].key_groups == expected


def test_flat_fields_map_to_stanza_types(tmp_path: Path) -> None:
    text = f"""
creation_rules:
  - age: {AGE1}
    pgp: "FBC7 B9E2 A4F9 289A C0C1 D484 3D16 CEE4 A273 81B4"
    kms: arn:aws:kms:eu-west-1:1:key/k+arn:aws:iam::1:role/r
    aws_profile: prod
    gcp_kms: projects/p/locations/l/keyRings/r/cryptoKeys/k
    azure_keyvault: https://v.vault.azure.net/keys/k/123
    hc_vault_transit_uri: https://vault:8200/v1/transit/keys/k
"""
    (group,) = load_rules(write(tmp_path, text)).rules[0].key_groups
    assert [r.type for r in group] == ["age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault"]
    assert group[1].id == FP
    assert group[2] == Recipient(
        "kms",
        "arn:aws:kms:eu-west-1:1:key/k",
        (("role", "arn:aws:iam::1:role/r"), ("aws_profile", "prod")),
    )


def test_key_groups_with_merge_and_duplicates(tmp_path: Path) -> None:
    text = f"""
creation_rules:
  - age: {AGE2}          # ignored: key_groups wins
    shamir_threshold: 2
    key_groups:
      - age: [{AGE1}]
        pgp: [{FP}]
        merge:
          - age: [{AGE1}]
            hc_vault: [https://vault:8200/v1/transit/keys/k]
          - merge:
              - gcp_kms: [{{resource_id: projects/p/k}}]
      - kms:
          - arn: arn:aws:kms:k
            role: arn:aws:iam::1:role/r
            context: {{env: prod, team: a}}
            aws_profile: p
        azure_keyvault:
          - {{vaultUrl: "https://v.vault.azure.net", key: k, version: "1"}}
"""
    rule = load_rules(write(tmp_path, text)).rules[0]
    first, second = rule.key_groups
    assert first == [
        Recipient("age", AGE1),
        Recipient("pgp", FP),
        Recipient("hc_vault", "https://vault:8200/v1/transit/keys/k"),
        Recipient("gcp_kms", "projects/p/k"),
    ]
    assert second[0].type == "kms"
    assert dict(second[0].extra) == {
        "role": "arn:aws:iam::1:role/r",
        "context": "env:prod,team:a",
        "aws_profile": "p",
    }
    assert second[1].id == "https://v.vault.azure.net/keys/k/1"
    assert second[1].type == "azure_kv"
    assert rule.shamir_threshold == 2


def test_empty_key_groups_falls_back_to_flat_fields(tmp_path: Path) -> None:
    rule = load_rules(
        write(tmp_path, f"creation_rules:\n  - key_groups: []\n    age: {AGE1}\n")
    ).rules[0]
    assert rule.key_groups == [[Recipient("age", AGE1)]]


def test_rule_without_keys_has_no_groups(tmp_path: Path) -> None:
    rule = load_rules(write(tmp_path, "creation_rules:\n  - path_regex: x\n")).rules[0]
    assert rule.key_groups == []


# ---------------------------------------------------------------------------- settings


def test_selection_settings(tmp_path: Path) -> None:
    text = f"""
creation_rules:
  - path_regex: a
    age: {AGE1}
    encrypted_regex: ^(data|stringData)$
    mac_only_encrypted: true
  - age: {AGE1}
"""
    config = load_rules(write(tmp_path, text))
    selection = config.rules[0].selection
    assert selection.encrypted_regex == "^(data|stringData)$"
    assert selection.mac_only_encrypted
    assert config.rules[1].selection.with_default().unencrypted_suffix == "_unencrypted"


def test_stores_indent(tmp_path: Path) -> None:
    config = load_rules(write(tmp_path, "stores: {yaml: {indent: 2}, json: {indent: 4}}\n"))
    assert dict(config.indents) == {"yaml": 2, "json": 4}


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            f"creation_rules:\n  - age: {AGE1}\n"
            "  - encrypted_regex: a\n    unencrypted_suffix: b\n",
            "creation_rules[1]: creation rule 1 sets more than one selection setting",
        ),
        (
            "creation_rules:\n  - age: x\n  - key_groups:\n      - age: notalist\n",
            "creation_rules[1].key_groups[0].age: must be a list",
        ),
        ("creation_rules:\n  - path_regx: a\n", "creation_rules[0].path_regx: unknown field"),
        ("creation_rules:\n  - path_regex: '(['\n", "creation_rules[0].path_regex: not a valid"),
        ("creation_rules:\n  - age: 12\n", "creation_rules[0].age: must be a comma-separated"),
        ("creation_rules:\n  - age: [12]\n", "creation_rules[0].age[0]: must be a non-empty"),
        (
            "creation_rules:\n  - key_groups:\n      - kms: [{role: r}]\n",
            "creation_rules[0].key_groups[0].kms[0].arn: must be a non-empty string",
        ),
        (
            "creation_rules:\n  - key_groups:\n      - merge: [{bogus: []}]\n",
            "creation_rules[0].key_groups[0].merge[0].bogus: unknown field",
        ),
        (
            "creation_rules:\n  - shamir_threshold: 3\n    key_groups: [{age: [a]}, {age: [b]}]\n",
            "creation_rules[0].shamir_threshold: threshold 3",
        ),
        ("creation_rules:\n  - mac_only_encrypted: yes please\n", "mac_only_encrypted: must be"),
        ("creation_rules: {age: a}\n", "creation_rules: must be a list"),
        ("stores: {yaml: {indent: -1}}\n", "stores.yaml.indent: must be a whole number"),
        ("bogus: 1\n", "bogus: unknown field"),
        ("creation_rules: [\n", "not valid YAML"),
    ],
)
def test_errors_name_file_and_field(tmp_path: Path, text: str, where: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_rules(path)
    assert str(path) in info.value.message
    assert where in info.value.message


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_rules(tmp_path / ".sops.yaml")
