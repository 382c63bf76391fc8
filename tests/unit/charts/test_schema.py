"""values.schema.json rejects bad values with a message that names the field (helm validates it on
install, upgrade, template and lint)."""

from __future__ import annotations

import json

import pytest

from augur.devcluster.chart import CHART, helm

BAD = [
    # (value, what the message must mention)
    ("operator.replicas=two", ["/operator/replicas", "integer"]),
    ("operator.replicas=-1", ["/operator/replicas", "minimum"]),
    ("extender.replicas=-3", ["/extender/replicas", "minimum"]),
    ("operator.replica=2", ["/operator", "replica"]),
    ("unknownTopLevel=1", ["unknownTopLevel"]),
    ("extender.tls.selfsigned.validityDays=1", ["/extender/tls", "selfsigned"]),
    ("operator.logFormat=xml", ["/operator/logFormat"]),
    ("image.digest=latest", ["/image/digest"]),
    ("operator.metricsPort=70000", ["/operator/metricsPort", "maximum"]),
    ("rbac.scaleTargets[0].apiGroup=*", ["/rbac/scaleTargets/0/apiGroup"]),
    ("rbac.scaleTargets[0].resources={*}", ["/rbac/scaleTargets/0/resources/0"]),
    ("serviceMonitor.interval=often", ["/serviceMonitor/interval"]),
    ("operator.podDisruptionBudget.minAvailable=half", ["/operator/podDisruptionBudget/minAvailable"]),
    ("operator.handlerThreads=0", ["/operator/handlerThreads", "minimum"]),
    ("operator.warmupConcurrency=many", ["/operator/warmupConcurrency", "integer"]),
    ("operator.fitNice=20", ["/operator/fitNice", "maximum"]),
    ("operator.statusRefreshSeconds=-5", ["/operator/statusRefreshSeconds", "minimum"]),
    ("extender.plannerPriority=realtime", ["/extender/plannerPriority"]),
    ("extender.plannerProcess=sometimes", ["/extender/plannerProcess", "boolean"]),
]


@pytest.mark.parametrize(("value", "mentions"), BAD, ids=[v for v, _ in BAD])
def test_schema_rejects_with_a_readable_message(helm_bin: str, value: str, mentions: list[str]) -> None:
    result = helm(helm_bin, "template", "augur", str(CHART), "--set", value, check=False)
    assert result.returncode != 0, f"--set {value} was accepted"
    message = result.stderr
    assert "values don't meet the specifications of the schema" in message, message
    for text in mentions:
        assert text in message, f"{text!r} not in {message!r}"


def test_schema_accepts_percentages_and_zero_replicas(helm_bin: str) -> None:
    sets = ["operator.podDisruptionBudget.minAvailable=50%", "extender.replicas=0", "operator.replicas=0"]
    helm(helm_bin, "template", "augur", str(CHART), *[a for s in sets for a in ("--set", s)])


def test_every_object_level_of_the_schema_rejects_unknown_keys() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())

    def closed(node: dict[str, object], path: str) -> list[str]:
        open_ = []
        props = node.get("properties")
        if isinstance(props, dict):
            if node.get("additionalProperties") is not False:
                open_.append(path or "/")
            for key, sub in props.items():
                if isinstance(sub, dict):
                    open_ += closed(sub, f"{path}/{key}")
                    items = sub.get("items")
                    if isinstance(items, dict):
                        open_ += closed(items, f"{path}/{key}[]")
        return open_

    assert closed(schema, "") == []


def test_every_value_is_in_the_schema_and_documented() -> None:
    import yaml

    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())

    def missing(v: object, s: dict[str, object], path: str) -> list[str]:
        out = []
        if isinstance(v, dict) and isinstance(s.get("properties"), dict):
            props = s["properties"]
            assert isinstance(props, dict)
            for key, sub in v.items():
                if key not in props:
                    out.append(f"{path}.{key}")
                else:
                    out += missing(sub, props[key], f"{path}.{key}")
        return out

    assert missing(values, schema, "") == []
