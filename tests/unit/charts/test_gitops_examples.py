"""examples/gitops: every kustomize overlay builds with the project's kubectl, lists every shipped CRD,
and leaves ``spec.replicas`` to Augur; the Argo CD and Flux manifests say what docs/scaling.md promises."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from augur.devcluster.tools import ensure_tools

ROOT = Path(__file__).resolve().parents[3]
GITOPS = ROOT / "examples" / "gitops"
OVERLAYS = sorted(p.parent for p in (GITOPS / "kustomize" / "overlays").glob("*/kustomization.yaml"))


def build(overlay: Path) -> list[dict[str, Any]]:
    kubectl = ensure_tools(quiet=True).path("kubectl")
    done = subprocess.run(
        [kubectl, "kustomize", "--load-restrictor=LoadRestrictionsNone", str(overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def test_there_are_overlays() -> None:
    assert {p.name for p in OVERLAYS} == {"staging", "production"}


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_overlay_builds_with_every_crd_and_no_replicas_on_scaled_workloads(overlay: Path) -> None:
    objects = build(overlay)
    crds = {o["metadata"]["name"] for o in objects if o["kind"] == "CustomResourceDefinition"}
    shipped = {yaml.safe_load(p.read_text())["metadata"]["name"] for p in (ROOT / "crds").glob("augur.dev_*.yaml")}
    assert crds == shipped, "the kustomize base must list every file in crds/"
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert ("Deployment", "augur-operator") in kinds
    for obj in objects:
        labels = obj["metadata"].get("labels") or {}
        if obj["kind"] == "Deployment" and labels.get("augur.dev/scaled") == "true":
            assert "replicas" not in obj["spec"], f"{obj['metadata']['name']}: Augur owns spec.replicas"
        if obj["kind"] == "Deployment" and obj["metadata"]["name"].startswith("augur-"):
            images = [c["image"] for c in obj["spec"]["template"]["spec"]["containers"]]
            assert all(i.startswith("registry.example.com/augur:") for i in images), images


def test_argocd_workloads_ignore_replicas_and_respect_it_on_sync() -> None:
    app = yaml.safe_load((GITOPS / "argocd" / "workloads-application.yaml").read_text())
    pointers = {(d["kind"], p) for d in app["spec"]["ignoreDifferences"] for p in d.get("jsonPointers", [])}
    assert ("Deployment", "/spec/replicas") in pointers
    options = app["spec"]["syncPolicy"]["syncOptions"]
    assert "RespectIgnoreDifferences=true" in options


def test_flux_release_and_kustomization_are_well_formed() -> None:
    release = yaml.safe_load((GITOPS / "flux" / "helmrelease.yaml").read_text())
    assert release["kind"] == "HelmRelease" and release["spec"]["chart"]["spec"]["chart"] == "augur"
    assert release["spec"]["upgrade"]["crds"] == "CreateReplace"
    repo = yaml.safe_load((GITOPS / "flux" / "helmrepository.yaml").read_text())
    assert repo["metadata"]["name"] == release["spec"]["chart"]["spec"]["sourceRef"]["name"]
    workloads = yaml.safe_load((GITOPS / "flux" / "workloads-kustomization.yaml").read_text())
    patch = yaml.safe_load(workloads["spec"]["patches"][0]["patch"])
    assert patch["spec"] == {"replicas": None}
