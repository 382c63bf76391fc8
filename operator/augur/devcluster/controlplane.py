"""The command lines of the Kubernetes control-plane components as :class:`LocalCluster
<augur.devcluster.cluster.LocalCluster>` runs them, every one on 127.0.0.1: etcd (no fsync),
kube-apiserver (generated certificates, RBAC, no endpoint reconciler), kube-controller-manager (only the
:data:`CONTROLLERS` the tests and demos rely on) and kube-scheduler (from a ``KubeSchedulerConfiguration``
file), and :func:`healthz`, the readiness probe of the last two. Starting, waiting and stopping stay with
the cluster.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from augur.devcluster.pki import Pki

# Controllers the tests and demos rely on (names from cmd/kube-controller-manager/names).
CONTROLLERS = (
    "serviceaccount-token-controller",
    "serviceaccount-controller",
    "deployment-controller",
    "replicaset-controller",
    "statefulset-controller",
    "garbage-collector-controller",
    "namespace-controller",
    "disruption-controller",
    "endpoints-controller",
    "endpointslice-controller",
    "node-lifecycle-controller",
    "root-ca-certificate-publisher-controller",
)
SERVICE_CIDR = "10.0.0.0/24"


def etcd_argv(binary: str, data_dir: Path, client: str, peer: str) -> list[str]:
    """A single-member etcd serving ``client`` and ``peer`` (``http://127.0.0.1:port`` URLs)."""
    return [
        binary,
        "--name=node0",
        f"--data-dir={data_dir}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=node0={peer}",
        "--unsafe-no-fsync=true",
        "--log-level=warn",
    ]


def apiserver_argv(binary: str, etcd_port: int, port: int, pki: Pki, cert_dir: Path) -> list[str]:
    return [
        binary,
        f"--etcd-servers=http://127.0.0.1:{etcd_port}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={port}",
        "--endpoint-reconciler-type=none",
        f"--tls-cert-file={pki.apiserver.cert}",
        f"--tls-private-key-file={pki.apiserver.key}",
        f"--client-ca-file={pki.ca.cert}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki.sa_pub}",
        f"--service-account-signing-key-file={pki.sa_key}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--authorization-mode=Node,RBAC",
        "--allow-privileged=true",
        f"--cert-dir={cert_dir}",
        "--profiling=false",
    ]


def controller_manager_argv(binary: str, kubeconfig: Path, port: int, pki: Pki, cert_dir: Path) -> list[str]:
    return [
        binary,
        f"--kubeconfig={kubeconfig}",
        *serving_flags(kubeconfig, port),
        "--leader-elect=false",
        f"--controllers={','.join(CONTROLLERS)}",
        "--use-service-account-credentials=true",
        f"--service-account-private-key-file={pki.sa_key}",
        f"--root-ca-file={pki.ca.cert}",
        f"--cert-dir={cert_dir}",
        "--node-monitor-grace-period=60s",
    ]


def scheduler_argv(binary: str, config: Path, kubeconfig: Path, port: int, cert_dir: Path) -> list[str]:
    return [binary, f"--config={config}", *serving_flags(kubeconfig, port), f"--cert-dir={cert_dir}"]


def serving_flags(kubeconfig: Path, port: int) -> list[str]:
    """Loopback HTTPS serving of a control-plane component, delegating authn/authz to the API server."""
    return [
        "--bind-address=127.0.0.1",
        f"--secure-port={port}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
    ]


def healthz(port: int) -> bool:
    return httpx.get(f"https://127.0.0.1:{port}/healthz", verify=False, timeout=2).text == "ok"
