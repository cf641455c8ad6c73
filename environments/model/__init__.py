"""The typed configuration of an environment: the model every ``environments/<name>.py`` fills in."""

from environments.model.config import (
    CapacityType,
    ClusterConfig,
    EdgeConfig,
    EnvironmentConfig,
    GitOpsConfig,
    InterfaceEndpoint,
    KarpenterConfig,
    NatStrategy,
    NetworkConfig,
    NodeGroupConfig,
    ObjectLockConfig,
    ObjectLockMode,
    RetiringTargetGroup,
    StateConfig,
    StorageConfig,
    Tier,
    validate_fleet,
)
from environments.model.delivery import Channel
from environments.model.errors import ConfigError

__all__ = [
    "CapacityType",
    "Channel",
    "ClusterConfig",
    "ConfigError",
    "EdgeConfig",
    "EnvironmentConfig",
    "GitOpsConfig",
    "InterfaceEndpoint",
    "KarpenterConfig",
    "NatStrategy",
    "NetworkConfig",
    "NodeGroupConfig",
    "ObjectLockConfig",
    "ObjectLockMode",
    "RetiringTargetGroup",
    "StateConfig",
    "StorageConfig",
    "Tier",
    "validate_fleet",
]
