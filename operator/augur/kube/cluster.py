"""What the rebalancer reads from the API server (raw JSON, no client models) and the Migrations it creates."""

from __future__ import annotations

import json
from typing import Any

import urllib3
from kubernetes import client

from augur.api import GROUP, VERSION
from augur.kube.client import FIELD_MANAGER, ApiStatus, KubeError
from augur.kube.events import post_event

Raw = dict[str, Any]
TIMEOUT = (3.0, 30.0)


class ClusterReader:
    """Lists nodes, scheduled pods and Augur objects; creates ``Migration`` objects."""

    def __init__(self, api: client.ApiClient) -> None:
        self._core: Any = client.CoreV1Api(api)
        self._custom: Any = client.CustomObjectsApi(api)

    def _items(self, what: str, call: Any, *args: Any, **kwargs: Any) -> list[Raw]:
        try:
            response = call(*args, _preload_content=False, _request_timeout=TIMEOUT, **kwargs)
        except client.ApiException as exc:
            raise KubeError(f"listing {what}", ApiStatus.from_exception(exc)) from exc
        except (OSError, urllib3.exceptions.HTTPError) as exc:
            raise KubeError(f"listing {what}", ApiStatus(0, "ConnectionError", str(exc))) from exc
        items: list[Raw] = json.loads(response.data).get("items") or []
        return items

    def nodes(self) -> list[Raw]:
        return self._items("nodes", self._core.list_node)

    def scaled_objects(self, namespaces: tuple[str, ...] = ()) -> list[Raw]:
        """KEDA ``ScaledObject``s, cluster-wide or in each of ``namespaces`` (404 while ``keda.sh`` is not
        served)."""
        group = ("keda.sh", "v1alpha1")
        custom = self._custom
        if not namespaces:
            return self._items("ScaledObjects", custom.list_cluster_custom_object, *group, "scaledobjects")
        lists = (
            self._items(f"ScaledObjects in {ns}", custom.list_namespaced_custom_object, *group, ns, "scaledobjects")
            for ns in namespaces
        )
        return [item for items in lists for item in items]

    def pods(self) -> list[Raw]:
        """Every pod bound to a node that has not terminated."""
        selector = "spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed"
        return self._items("pods", self._core.list_pod_for_all_namespaces, field_selector=selector)

    def pod_names(self, namespace: str, selector: str) -> set[str]:
        """Names of the pods ``selector`` matches in ``namespace`` (none for an empty selector)."""
        if not selector:
            return set()
        items = self._items(
            f"pods {selector!r} in {namespace}", self._core.list_namespaced_pod, namespace, label_selector=selector
        )
        return {str(p["metadata"]["name"]) for p in items}

    def custom(self, plural: str) -> list[Raw]:
        """Every ``augur.dev`` object of a kind, cluster-wide."""
        return self._items(plural, self._custom.list_cluster_custom_object, GROUP, VERSION, plural)

    def create_migration(self, namespace: str, body: Raw) -> Raw:
        try:
            created: Raw = self._custom.create_namespaced_custom_object(
                GROUP, VERSION, namespace, "migrations", body, field_manager=FIELD_MANAGER
            )
        except client.ApiException as exc:
            raise KubeError(f"creating a Migration in {namespace}", ApiStatus.from_exception(exc)) from exc
        except (OSError, urllib3.exceptions.HTTPError) as exc:
            raise KubeError(f"creating a Migration in {namespace}", ApiStatus(0, "ConnectionError", str(exc))) from exc
        return created

    def patch_migration_status(self, namespace: str, name: str, status: Raw) -> None:
        """Merge patch of a ``Migration``'s status (the rebalancer adds ``measuredGain`` to a finished move,
        which the executor no longer writes)."""
        what = f"patching status of Migration {namespace}/{name}"
        try:
            self._custom.patch_namespaced_custom_object_status(
                GROUP, VERSION, namespace, "migrations", name, {"status": status}, field_manager=FIELD_MANAGER,
                _content_type="application/merge-patch+json", _request_timeout=TIMEOUT,
            )  # fmt: skip
        except client.ApiException as exc:
            if exc.status != 404:
                raise KubeError(what, ApiStatus.from_exception(exc)) from exc
        except (OSError, urllib3.exceptions.HTTPError) as exc:
            raise KubeError(what, ApiStatus(0, "ConnectionError", str(exc))) from exc

    def apply_policy_status(self, name: str, status: Raw) -> None:
        """Server-side apply of a ``RebalancePolicy``'s status (field manager ``augur``)."""
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "RebalancePolicy",
            "metadata": {"name": name},
            "status": status,
        }
        try:
            self._custom.patch_cluster_custom_object_status(
                GROUP, VERSION, "rebalancepolicies", name, body, field_manager=FIELD_MANAGER, force=True,
                _content_type="application/apply-patch+yaml", _request_timeout=TIMEOUT,
            )  # fmt: skip
        except client.ApiException as exc:
            raise KubeError(f"applying status of RebalancePolicy {name}", ApiStatus.from_exception(exc)) from exc
        except (OSError, urllib3.exceptions.HTTPError) as exc:
            raise KubeError(
                f"applying status of RebalancePolicy {name}", ApiStatus(0, "ConnectionError", str(exc))
            ) from exc

    def post_event(self, name: str, uid: str, type_: str, reason: str, message: str) -> None:
        """A core/v1 Event on a ``RebalancePolicy`` (cluster-scoped: the Event goes to ``default``, as for
        nodes). Best effort: a failure is logged."""
        post_event(self._core, "RebalancePolicy", name, uid, type_, reason, message)
