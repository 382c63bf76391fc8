"""Quantities and a pod's effective requests, as kube-scheduler counts them."""

from __future__ import annotations

from typing import Any

import pytest

from augur.api.quantity import GIB, format_cpu, format_memory, pod_requests, quantity


def _c(cpu: str | None = None, memory: str | None = None, **extra: Any) -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    return {"name": "c", "resources": {"requests": requests}, **extra}


@pytest.mark.parametrize(
    ("text", "value"), [("500m", 0.5), ("2Gi", 2 * GIB), ("1.5", 1.5), ("1e3", 1000.0), ("128974848", 128974848.0)]
)
def test_quantities(text: str, value: float) -> None:
    assert quantity(text) == pytest.approx(value)


def test_a_malformed_quantity_is_refused() -> None:
    with pytest.raises(ValueError, match="bad quantity"):
        quantity("12 apples")


def test_app_containers_add_up_and_overhead_is_added() -> None:
    spec = {"containers": [_c("250m", "256Mi"), _c("1", "1Gi")], "overhead": {"cpu": "100m", "memory": "64Mi"}}
    assert pod_requests(spec) == pytest.approx((1.35, 1.3125))


def test_an_init_container_counts_only_when_it_needs_more_than_the_app() -> None:
    spec = {"containers": [_c("500m", "1Gi")], "initContainers": [_c("2", "256Mi")]}
    assert pod_requests(spec) == pytest.approx((2.0, 1.0))


def test_sidecars_add_to_the_app_and_to_the_init_containers_after_them() -> None:
    sidecar = _c("100m", "128Mi", restartPolicy="Always")
    spec = {"containers": [_c("500m", "1Gi")], "initContainers": [sidecar, _c("1", "512Mi")]}
    # app 0.5 + sidecar 0.1 = 0.6 < init 1 + the sidecar started before it 0.1 = 1.1; memory 1 + 0.125 wins.
    assert pod_requests(spec) == pytest.approx((1.1, 1.125))


@pytest.mark.parametrize("spec", [None, {}, {"containers": [_c("lots")]}, {"containers": "x"}, {"containers": [1]}])
def test_nothing_readable_requests_nothing(spec: Any) -> None:
    assert pod_requests(spec) == (0.0, 0.0)


def test_formatting_rounds_up_to_whole_units() -> None:
    assert (format_cpu(0.25), format_cpu(0.2501), format_cpu(2)) == ("250m", "251m", "2000m")
    assert (format_memory(0.5), format_memory(1e-9)) == ("524288Ki", "1Ki")
    assert quantity(format_memory(0.3)) / GIB == pytest.approx(0.3, abs=1e-6)


def test_a_quantity_read_again_comes_from_memory_and_a_malformed_one_is_never_kept() -> None:
    from augur.api import quantity as module

    assert quantity("777m") == pytest.approx(0.777)
    assert module._PARSED["777m"] == pytest.approx(0.777)
    assert quantity("777m") == pytest.approx(0.777)
    with pytest.raises(ValueError, match="bad quantity"):
        quantity("7 apples")
    assert "7 apples" not in module._PARSED
