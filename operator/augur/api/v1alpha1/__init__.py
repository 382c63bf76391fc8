"""``augur.dev/v1alpha1``: every kind Augur serves."""

from augur.api.v1alpha1.migration import MIGRATION, MigrationSpec, MigrationStatus
from augur.api.v1alpha1.networktopology import NETWORK_TOPOLOGY, NetworkTopologySpec, NetworkTopologyStatus
from augur.api.v1alpha1.rebalancepolicy import REBALANCE_POLICY, RebalancePolicySpec, RebalancePolicyStatus
from augur.api.v1alpha1.scalingpolicy import SCALING_POLICY, ScalingPolicySpec, ScalingPolicyStatus
from augur.api.v1alpha1.workloadprofile import WORKLOAD_PROFILE, WorkloadProfileSpec, WorkloadProfileStatus

KINDS = (WORKLOAD_PROFILE, SCALING_POLICY, NETWORK_TOPOLOGY, MIGRATION, REBALANCE_POLICY)

__all__ = [
    "KINDS",
    "MIGRATION",
    "NETWORK_TOPOLOGY",
    "REBALANCE_POLICY",
    "SCALING_POLICY",
    "WORKLOAD_PROFILE",
    "MigrationSpec",
    "MigrationStatus",
    "NetworkTopologySpec",
    "NetworkTopologyStatus",
    "RebalancePolicySpec",
    "RebalancePolicyStatus",
    "ScalingPolicySpec",
    "ScalingPolicyStatus",
    "WorkloadProfileSpec",
    "WorkloadProfileStatus",
]
