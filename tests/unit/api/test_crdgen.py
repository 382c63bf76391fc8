"""The CRDs are generated from the models, structural, described, and current in crds/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from augur.api import KINDS
from augur.api.crdgen import crd, render_all
from augur.cli.crds import stale_files
from augur.cli.main import main

REPO = Path(__file__).resolve().parents[3]


def _walk(schema: dict[str, Any], path: str = ""):
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from _walk(sub, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from _walk(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _walk(schema["additionalProperties"], f"{path}{{}}")


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.info.kind)
def test_schema_is_structural(kind) -> None:
    schema = crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for path, node in _walk(schema):
        assert "type" in node, f"{kind.info.kind}{path} has no type"
        for forbidden in ("$ref", "anyOf", "allOf", "oneOf", "title", "$defs", "const"):
            assert forbidden not in node, f"{kind.info.kind}{path} has {forbidden}"
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") in (None,), f"{kind.info.kind}{path}"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.info.kind)
def test_every_field_is_described(kind) -> None:
    schema = crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for section in ("spec", "status"):
        for path, node in _walk(schema["properties"][section], section):
            if path.endswith("[]") or "{" in path:
                continue
            assert node.get("description"), f"{kind.info.kind}.{path} has no description"
            assert "``" not in node["description"], f"{kind.info.kind}.{path} has reST markup"


def test_names_subresources_and_columns() -> None:
    by_kind = {k.info.kind: crd(k) for k in KINDS}
    wp = by_kind["WorkloadProfile"]["spec"]
    assert wp["names"]["shortNames"] == ["wp"]
    assert wp["names"]["categories"] == ["augur"]
    assert wp["scope"] == "Namespaced"
    assert by_kind["NetworkTopology"]["spec"]["scope"] == "Cluster"
    version = wp["versions"][0]
    assert version["subresources"] == {"status": {}}
    columns = [c["name"] for c in version["additionalPrinterColumns"]]
    assert columns[:2] == ["Target", "Kind"] and "Ready" in columns and "Reason" in columns


def test_cel_rules_and_list_maps_are_emitted() -> None:
    sp = crd(next(k for k in KINDS if k.info.kind == "ScalingPolicy"))
    spec = sp["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    rules = {r["rule"]: r["message"] for r in spec["x-kubernetes-validations"]}
    assert rules["self.minReplicas <= self.maxReplicas"] == "minReplicas must be less than or equal to maxReplicas"
    wp = crd(next(k for k in KINDS if k.info.kind == "WorkloadProfile"))
    status = wp["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
    conditions = status["properties"]["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    assert set(conditions["items"]["required"]) >= {"type", "status", "reason", "lastTransitionTime"}


def test_union_of_duration_and_literal_becomes_one_pattern() -> None:
    sp = crd(next(k for k in KINDS if k.info.kind == "ScalingPolicy"))
    lead = sp["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["leadTime"]
    assert lead["type"] == "string" and lead["default"] == "2m"
    import re

    assert re.fullmatch(lead["pattern"], "auto") or re.search(lead["pattern"], "auto")
    assert re.search(lead["pattern"], "90s")
    assert not re.search(lead["pattern"], "soon")


def test_checked_in_crds_are_current() -> None:
    assert stale_files(REPO / "crds") == [], "crds/ is stale: run `augur crds generate`"


def test_generate_writes_parseable_yaml(tmp_path: Path) -> None:
    assert main(["crds", "generate", "--out", str(tmp_path)]) == 0
    assert main(["crds", "check", "--out", str(tmp_path)]) == 0
    for name, text in render_all(KINDS).items():
        doc = yaml.safe_load((tmp_path / name).read_text())
        assert doc["kind"] == "CustomResourceDefinition" and text.startswith("# Generated")
    (tmp_path / name).write_text(text + "# edited\n")
    assert main(["crds", "check", "--out", str(tmp_path)]) == 1
