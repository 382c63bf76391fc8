"""Locate (and on first use, build) the control plane's binaries.

``build-tools.sh`` next to this module compiles pinned Kubernetes, etcd and kwok versions from the Go
module proxy into ``$AUGUR_CACHE`` (default ``~/.cache/augur``), keyed by version, and the descheduler
(``sigs.k8s.io/descheduler``, for the rebalancing benchmark and its e2e test) into a directory of its own.
The ``helm`` CLI (charts/augur's tests), Flux's controllers (tests/e2e/test_flux.py; helm-controller for
tests/e2e/test_flux_helm.py in a directory of its own) and Argo CD
(tests/e2e/test_argocd.py) have directories of their own as well. A warm cache answers in well under a
second.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("build-tools.sh")
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok")


DESCHEDULER_PREFIX = "descheduler="
HELM_PREFIX = "helm="
FLUX_PREFIX = "flux="
ARGOCD_PREFIX = "argocd="
ARGOCD_FAILED_PREFIX = "argocd-failed="
FLUX_HC_PREFIX = "flux-hc="
FLUX_HC_FAILED_PREFIX = "flux-hc-failed="


@dataclass(frozen=True)
class Tools:
    bin_dir: Path
    descheduler_dir: Path | None = None
    """Where ``build-tools.sh`` put the descheduler (its own cache directory)."""
    helm_path: Path | None = None
    """The ``helm`` CLI (built into ``tools/helm-v<version>/bin``); None when the build did not report it."""
    flux_dir: Path | None = None
    """Flux's ``source-controller`` and ``kustomize-controller`` (their CRDs in ``../crds``)."""
    argocd_dir: Path | None = None
    """Argo CD's ``argocd`` binary (its Application and AppProject CRDs in ``../crds``)."""
    argocd_failure: Path | None = None
    """The build log when ``build-tools.sh`` could not build Argo CD (the other tools are still usable)."""
    flux_hc_dir: Path | None = None
    """Flux's ``helm-controller`` (its own cache directory; its CRDs in ``../crds``)."""
    flux_hc_failure: Path | None = None
    """The build log when ``build-tools.sh`` could not build helm-controller."""

    def path(self, name: str) -> str:
        return str(self.bin_dir / name)

    @property
    def descheduler(self) -> str:
        if self.descheduler_dir is None:
            raise RuntimeError("the descheduler was not built; run operator/augur/devcluster/build-tools.sh")
        return str(self.descheduler_dir / "descheduler")

    @property
    def helm(self) -> Path:
        if self.helm_path is None or not self.helm_path.is_file():
            raise RuntimeError(f"helm is not built ({self.helm_path}); run {SCRIPT}")
        return self.helm_path

    @property
    def flux(self) -> Path:
        if self.flux_dir is None or not (self.flux_dir / "kustomize-controller").is_file():
            raise RuntimeError(f"Flux's controllers are not built ({self.flux_dir}); run {SCRIPT}")
        return self.flux_dir

    @property
    def argocd(self) -> Path:
        if self.argocd_dir is None or not (self.argocd_dir / "argocd").is_file():
            raise RuntimeError(f"Argo CD is not built ({self.argocd_failure or self.argocd_dir}); run {SCRIPT}")
        return self.argocd_dir

    @property
    def kwok_stages(self) -> Path:
        return self.bin_dir.parent / "kwok-stages.yaml"


def ensure_tools(quiet: bool = False) -> Tools:
    """Build whatever is missing (progress on stderr) and return where the binaries are."""
    result = subprocess.run(
        ["bash", str(SCRIPT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else None,
        text=True,
        check=False,
        env=os.environ.copy(),
    )
    if result.returncode != 0:
        raise RuntimeError(f"building the control plane binaries failed (exit {result.returncode}); see the log above")
    lines = result.stdout.strip().splitlines()
    bin_dir = Path(lines[-1])
    missing = [b for b in BINARIES if not (bin_dir / b).is_file()]
    if missing:
        raise RuntimeError(f"build finished but {', '.join(missing)} missing from {bin_dir}")
    found = [Path(x.removeprefix(DESCHEDULER_PREFIX)) for x in lines if x.startswith(DESCHEDULER_PREFIX)]
    descheduler = found[-1] if found else None
    if descheduler is not None and not (descheduler / "descheduler").is_file():
        raise RuntimeError(f"build finished but descheduler missing from {descheduler}")
    helm = next((Path(x.removeprefix(HELM_PREFIX)) for x in lines if x.startswith(HELM_PREFIX)), None)
    flux = next((Path(x.removeprefix(FLUX_PREFIX)) for x in lines if x.startswith(FLUX_PREFIX)), None)
    argocd = next((Path(x.removeprefix(ARGOCD_PREFIX)) for x in lines if x.startswith(ARGOCD_PREFIX)), None)
    failed = next(
        (Path(x.removeprefix(ARGOCD_FAILED_PREFIX)) for x in lines if x.startswith(ARGOCD_FAILED_PREFIX)), None
    )
    hc = next((Path(x.removeprefix(FLUX_HC_PREFIX)) for x in lines if x.startswith(FLUX_HC_PREFIX)), None)
    hc_failed = next(
        (Path(x.removeprefix(FLUX_HC_FAILED_PREFIX)) for x in lines if x.startswith(FLUX_HC_FAILED_PREFIX)), None
    )
    return Tools(bin_dir, descheduler, helm, flux, argocd, failed, hc, hc_failed)


if __name__ == "__main__":  # pragma: no cover
    print(ensure_tools().bin_dir, file=sys.stdout)
