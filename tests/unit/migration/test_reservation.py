"""The reservation pod's manifest: pinned, withheld label, no preemption, owned by the Migration."""

from __future__ import annotations

import pytest

from augur.migration.reservation import (
    OwnerTemplate,
    ReservationNotPossibleError,
    adoption_patch,
    priority_class,
    priority_class_name,
    priority_of_class,
    reservation_pod,
)

TEMPLATE = {
    "metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}, "annotations": {"a": "b"}},
    "spec": {
        "containers": [{"name": "c", "image": "x"}],
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]},
                        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]},
                    ]
                }
            }
        },
    },
}
RS = OwnerTemplate("web-abc", "rs", {"app": "web", "pod-template-hash": "abc"}, TEMPLATE, 3, 3)


def test_pinned_in_every_term_and_kept_from_early_adoption() -> None:
    pod = reservation_pod(RS, name="r", namespace="ns", migration=("m", "u"), target="n2", source="n1", priority=7)
    labels = pod["metadata"]["labels"]
    assert "pod-template-hash" not in labels and labels["app"] == "web" and labels["augur.dev/migration"] == "m"
    terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert len(terms) == 2
    for term in terms:
        assert term["matchFields"] == [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]
        assert term["matchExpressions"]
    owner = pod["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "Migration" and owner["controller"] is False
    assert pod["spec"]["priorityClassName"] == "augur-reservation-7" and "nodeName" not in pod["spec"]
    assert TEMPLATE["metadata"]["labels"]["pod-template-hash"] == "abc"  # the template is not modified


def test_without_a_target_the_current_node_is_avoided() -> None:
    bare = OwnerTemplate("rs", "u", {"app": "web"}, {"metadata": {"labels": {"app": "web"}}, "spec": {}}, 1, 1)
    pod = reservation_pod(bare, name="r", namespace="ns", migration=("m", "u"), target="", source="n1", priority=0)
    term = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ][0]
    assert term == {"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["n1"]}]}
    assert "app" not in pod["metadata"]["labels"]  # the only selector label is withheld
    assert adoption_patch(bare) == {"metadata": {"labels": {"app": "web"}, "ownerReferences": None}}


def test_selector_without_match_labels_cannot_reserve() -> None:
    odd = OwnerTemplate("rs", "u", {}, {"metadata": {"labels": {"app": "web"}}, "spec": {}}, 1, 1)
    with pytest.raises(ReservationNotPossibleError, match="matchExpressions"):
        reservation_pod(odd, name="r", namespace="ns", migration=("m", "u"), target="", source="n1", priority=0)


@pytest.mark.parametrize("value", [0, 1000, -5])
def test_priority_class_names_round_trip(value: int) -> None:
    assert priority_of_class(priority_class_name(value)) == value
    cls = priority_class(value)
    assert cls["value"] == value and cls["preemptionPolicy"] == "Never" and cls["globalDefault"] is False
