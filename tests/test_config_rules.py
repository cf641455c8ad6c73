"""Every configuration rule, one case each, with the exact line it prints.

Each case breaks one rule of a valid environment (tests/builders.py) and asserts the whole
message: the environment (where known), the dotted field path and the rule, as ``main.py``
prints it after ``error: ``. The rules themselves: environments/model/config.py and rules.py;
the AWS facts they are checked against: environments/model/facts/.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from builders import ACCOUNT, ADMIN, base, cluster, environment, group

from environments import load_environments
from environments.model import Channel, ConfigError
from environments.model.config import (
    CapacityType,
    EdgeConfig,
    EnvironmentConfig,
    GitOpsConfig,
    InterfaceEndpoint,
    KarpenterConfig,
    NatStrategy,
    NetworkConfig,
    ObjectLockConfig,
    RetiringTargetGroup,
    StateConfig,
    StorageConfig,
    Tier,
    validate_fleet,
)

#: Twelve digits, but not ASCII ones (str.isdigit() accepts them; AWS does not).
FULLWIDTH_DIGITS = "\uff14" * 12
WAF = f"arn:aws:wafv2:eu-west-1:{ACCOUNT}:regional/webacl/edge/0123abcd-0123-4567-89ab-0123456789ab"

CASES = [
    # types
    pytest.param(
        lambda: NetworkConfig(vpc_cidr="10.0.0.0/16", az_count="3"),
        "configuration: network.az_count: must be a whole number, not the str '3'",
        id="a string where a number is meant",
    ),
    pytest.param(
        lambda: group(min_size=True),
        "configuration: cluster.node_groups.general.min_size: must be a whole number, not the bool True",
        id="a boolean where a number is meant",
    ),
    pytest.param(
        lambda: group(disk_size_gib=50.0),
        "configuration: cluster.node_groups.general.disk_size_gib: must be a whole number, not the float 50.0",
        id="a float where a whole number is meant",
    ),
    pytest.param(
        lambda: StorageConfig(log_retention_days=None),
        "configuration: storage.log_retention_days: must be a whole number, not None",
        id="None where a number is meant",
    ),
    pytest.param(
        lambda: environment(prevent_destroy="false"),
        "environment 'qa': prevent_destroy: must be True or False, not the str 'false'",
        id="the string false where a boolean is meant",
    ),
    pytest.param(
        lambda: EdgeConfig(alb_deletion_protection=0),
        "configuration: edge.alb_deletion_protection: must be True or False, not the int 0",
        id="a number where a boolean is meant",
    ),
    pytest.param(
        lambda: environment(account_id=444444444444),
        "environment 'qa': account_id: must be a string, not the int 444444444444",
        id="a number where a string is meant",
    ),
    pytest.param(
        lambda: environment(tier="production"),
        "environment 'qa': tier: must be one of Tier.DEVELOPMENT, Tier.STAGING, Tier.PRODUCTION, not the str 'production'",
        id="a plain string where an enum is meant",
    ),
    pytest.param(
        lambda: cluster(platform_admin_role_arns=ADMIN),
        "configuration: cluster.platform_admin_role_arns: must be a tuple of strings, like ('a',) or ('a', 'b'), not the str 'arn:aws:iam::444444444444:role/admin'",
        id="a string where a tuple is meant",
    ),
    pytest.param(
        lambda: environment(network={"vpc_cidr": "10.40.0.0/16", "az_count": "3"}),
        "environment 'qa': network.az_count: must be a whole number, not the str '3'",
        id="a dict where a configuration object is meant is held to the same rules",
    ),
    pytest.param(
        lambda: environment(state={"bucket": "Plato"}),
        "environment 'qa': state.bucket: 'Plato' is not a valid S3 bucket name (lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit)",
        id="a bad value inside a dict is named by its path",
    ),
    pytest.param(
        lambda: environment(edge=None),
        "environment 'qa': edge: must be an EdgeConfig(...), not None",
        id="None where a configuration object is meant",
    ),
    pytest.param(
        lambda: NetworkConfig(vpc_cidr="10.0.0.0/16", az_cont=3),
        "configuration: network.az_cont: is not a known field; did you mean 'az_count'?",
        id="a misspelt field with a suggestion",
    ),
    pytest.param(
        lambda: EnvironmentConfig(**{k: v for k, v in base().items() if k != "region"}),
        "environment 'qa': region: is required",
        id="a missing field",
    ),
    pytest.param(
        lambda: StateConfig("plato-tfstate-qa"),
        "configuration: state: StateConfig takes keyword arguments only (name=value)",
        id="positional arguments",
    ),
    pytest.param(
        lambda: group(labels={"team": 7}),
        "configuration: cluster.node_groups.general.labels.team: must be a string, not the int 7",
        id="a non-string label value",
    ),
    # identity
    pytest.param(
        lambda: environment(name="QA"),
        "configuration: name: 'QA' must be 2-10 lower-case letters or digits, starting with a letter",
        id="a name with capitals",
    ),
    pytest.param(
        lambda: environment(account_id=FULLWIDTH_DIGITS),
        f"environment 'qa': account_id: '{FULLWIDTH_DIGITS}' must be exactly 12 digits (0-9)",
        id="non-ASCII digits in the account id",
    ),
    pytest.param(
        lambda: environment(account_id="44444444444"),
        "environment 'qa': account_id: '44444444444' must be exactly 12 digits (0-9)",
        id="an account id of eleven digits",
    ),
    pytest.param(
        lambda: environment(region="eu-central-3"),
        "environment 'qa': region: 'eu-central-3' is not an AWS region (environments/model/facts/aws-regions.tsv)",
        id="a region that does not exist",
    ),
    pytest.param(
        lambda: environment(deploy_role_arn="arn:aws:iam::555555555555:role/deploy"),
        "environment 'qa': deploy_role_arn: role account 555555555555 differs from account_id 444444444444",
        id="a deploy role in another account",
    ),
    pytest.param(
        lambda: environment(region="cn-north-1", network=NetworkConfig(vpc_cidr="10.40.0.0/16", az_count=3)),
        "environment 'qa': deploy_role_arn: 'arn:aws:iam::444444444444:role/deploy' is in partition aws, but region cn-north-1 is in aws-cn",
        id="a deploy role in another partition",
    ),
    pytest.param(
        lambda: cluster(developer_role_arns=("arn:aws:iam::444444444444:user/bob",)),
        "configuration: cluster.developer_role_arns: 'arn:aws:iam::444444444444:user/bob' is not an IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>)",
        id="a user ARN where a role is meant",
    ),
    pytest.param(
        lambda: cluster(viewer_role_arns=(ADMIN,)),
        "configuration: cluster.viewer_role_arns: 'arn:aws:iam::444444444444:role/admin' is also in platform_admin_role_arns: a role gets one access entry, so one kind of access",
        id="a role in two access lists",
    ),
    pytest.param(
        lambda: cluster(viewer_role_arns=(f"arn:aws:iam::{ACCOUNT}:role/" + "r" * 65,)),
        "configuration: cluster.viewer_role_arns: 'arn:aws:iam::444444444444:role/rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr' has a role name of more than 64 characters or with characters IAM refuses",
        id="a role name longer than IAM allows",
    ),
    pytest.param(
        lambda: environment(owner="platform#team"),
        "environment 'qa': owner: the value of tag 'owner' holds a character AWS tags do not allow (letters, digits, spaces and _ . : / = + - @)",
        id="an owner with a character tags refuse",
    ),
    # names AWS derives
    pytest.param(
        lambda: environment(domain="a" * 45 + ".qa.plato.example.com"),
        "environment 'qa': domain: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.qa.plato.example.com' is 66 characters long; ACM allows 64 for a certificate's domain name",
        id="a domain longer than ACM's 64",
    ),
    pytest.param(
        lambda: environment(domain="QA.plato.example.com"),
        "environment 'qa': domain: 'QA.plato.example.com' is not a valid lower-case DNS domain name",
        id="a domain with capitals",
    ),
    pytest.param(
        lambda: environment(domain="qä.plato.example.com"),
        "environment 'qa': domain: 'qä.plato.example.com' is not an ASCII DNS name (use its punycode form)",
        id="a non-ASCII domain",
    ),
    pytest.param(
        lambda: StateConfig(bucket="xn--plato-state"),
        "configuration: state.bucket: 'xn--plato-state' starts with 'xn--', which S3 reserves",
        id="a state bucket with a reserved prefix",
    ),
    pytest.param(
        lambda: StateConfig(bucket="plato-state-s3alias"),
        "configuration: state.bucket: 'plato-state-s3alias' ends with '-s3alias', which S3 reserves",
        id="a state bucket with a reserved suffix",
    ),
    pytest.param(
        lambda: StateConfig(bucket="plato.state"),
        "configuration: state.bucket: 'plato.state' contains a dot: virtual-hosted TLS to S3 breaks on dotted bucket names",
        id="a state bucket with a dot",
    ),
    pytest.param(
        lambda: StateConfig(bucket="p" * 64),
        "configuration: state.bucket: 'pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp' is 64 characters long; S3 bucket names have 3 to 63",
        id="a state bucket too long",
    ),
    pytest.param(
        lambda: environment(project="sthree"),
        "environment 'qa': name: the loki-chunks bucket: 'sthree-qa-loki-chunks-444444444444' starts with 'sthree-', which S3 reserves",
        id="a derived bucket with a reserved prefix",
    ),
    pytest.param(
        lambda: environment(project="internal"),
        "environment 'qa': name: the load balancer name 'internal-qa-edge' it derives starts with 'internal-', which AWS reserves",
        id="a derived ALB name with the reserved internal- prefix",
    ),
    pytest.param(
        lambda: environment(project="platformteam1"),
        "environment 'qa': project: 'platformteam1' must be 2-12 lower-case letters or digits, starting with a letter",
        id="a project name too long",
    ),
    # tags
    pytest.param(
        lambda: environment(tags={"AWS:team": "x"}),
        "environment 'qa': tags['AWS:team']: tag key 'AWS:team' starts with 'aws:', which AWS reserves",
        id="a tag key with the aws: prefix in any case",
    ),
    pytest.param(
        lambda: environment(tags={"cost#center": "x"}),
        "environment 'qa': tags['cost#center']: tag key 'cost#center' holds a character AWS tags do not allow (letters, digits, spaces and _ . : / = + - @)",
        id="a tag key with a character AWS refuses",
    ),
    pytest.param(
        lambda: environment(tags={"note": "n" * 257}),
        "environment 'qa': tags.note: the value of tag 'note' has 257 characters; AWS allows 256",
        id="a tag value longer than 256",
    ),
    pytest.param(
        lambda: environment(tags={"Owner": "x"}),
        "environment 'qa': tags.Owner: is set from the environment's own fields; remove it from tags",
        id="a tag key the project sets",
    ),
    pytest.param(
        lambda: environment(tags={"Name": "x"}),
        "environment 'qa': tags.Name: is set on each resource by the project and would override this value; choose another key",
        id="a tag key the project sets per resource",
    ),
    pytest.param(
        lambda: environment(tags={"karpenter.sh/discovery": "x"}),
        "environment 'qa': tags['karpenter.sh/discovery']: uses a prefix Karpenter and EKS keep for the nodes they manage (karpenter.sh/, karpenter.k8s.aws/, kubernetes.io/, eks:); choose another key",
        id="a tag key Karpenter keeps for its nodes",
    ),
    pytest.param(
        lambda: environment(tags={f"t{i}": "x" for i in range(42)}),
        "environment 'qa': tags: 42 tags, with the 9 the project adds, exceed AWS's 50 per resource; keep at most 41",
        id="more tags than AWS allows per resource",
    ),
    # labels
    pytest.param(
        lambda: group(labels={"node.kubernetes.io/role": "x"}),
        "configuration: cluster.node_groups.general.labels['node.kubernetes.io/role']: label key 'node.kubernetes.io/role' uses a prefix Kubernetes or EKS reserves (node.kubernetes.io)",
        id="a label key with a reserved prefix",
    ),
    pytest.param(
        lambda: group(labels={"team": "t" * 64}),
        "configuration: cluster.node_groups.general.labels.team: the value 'tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt' of label 'team' is not a valid Kubernetes label value (at most 63 letters, digits, '-', '_' or '.')",
        id="a label value too long",
    ),
    pytest.param(
        lambda: group(labels={"capacity": "x"}),
        "configuration: cluster.node_groups.general.labels.capacity: is set by the project itself (node-group, capacity); choose another key",
        id="a label key the node groups set",
    ),
    # network
    pytest.param(
        lambda: NetworkConfig(vpc_cidr="10.0.0.0/255.255.0.0"),
        "configuration: network.vpc_cidr: '10.0.0.0/255.255.0.0' is not in canonical notation; write '10.0.0.0/16'",
        id="a CIDR not in canonical notation",
    ),
    pytest.param(
        lambda: NetworkConfig(vpc_cidr="10.0.0.1/16"),
        "configuration: network.vpc_cidr: '10.0.0.1/16' has host bits set; the network is '10.0.0.0/16'",
        id="a CIDR with host bits",
    ),
    pytest.param(
        lambda: NetworkConfig(vpc_cidr="100.64.0.0/16"),
        "configuration: network.vpc_cidr: '100.64.0.0/16' must be a private (RFC 1918) range: inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
        id="a VPC outside RFC 1918",
    ),
    pytest.param(
        lambda: NetworkConfig(vpc_cidr="10.0.0.0/16", az_count=5),
        "configuration: network.az_count: must be between 2 and 4, not 5",
        id="an AZ count out of range",
    ),
    pytest.param(
        lambda: environment(network=NetworkConfig(vpc_cidr="10.40.0.0/16", az_count=2, availability_zones=("eu-west-1a", "eu-west-1z"))),
        "environment 'qa': network.availability_zones: 'eu-west-1z' is not a zone of region eu-west-1 (zones: eu-west-1a, eu-west-1b, eu-west-1c)",
        id="an AZ outside the region",
    ),
    pytest.param(
        lambda: environment(region="us-west-1", network=NetworkConfig(vpc_cidr="10.40.0.0/16", az_count=3)),
        "environment 'qa': network.az_count: 3 zones, but an account sees 2 in region us-west-1",
        id="more AZs than an account sees in the region",
    ),
    pytest.param(
        lambda: environment(region="ap-northeast-1", network=NetworkConfig(vpc_cidr="10.40.0.0/16", az_count=3)),
        "environment 'qa': network.availability_zones: must be pinned in region ap-northeast-1: accounts see different 3 of its "
        "zones (ap-northeast-1a, ap-northeast-1b, ap-northeast-1c, ap-northeast-1d); list the ones 'aws ec2 describe-availability-zones' shows",
        id="unpinned zones in a region whose zones differ by account",
    ),
    pytest.param(
        lambda: NetworkConfig(vpc_cidr="10.0.0.0/16", flow_log_retention_days=42),
        "configuration: network.flow_log_retention_days: 42 is not a CloudWatch Logs retention period (one of [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653])",
        id="a flow log retention CloudWatch does not offer",
    ),
    pytest.param(
        lambda: environment(cluster=cluster(endpoint_public_access=True, public_access_cidrs=("0.0.0.0/1", "128.0.0.0/1"))),
        "environment 'qa': cluster.public_access_cidrs: a staging-tier API endpoint must not be open to the whole internet (0.0.0.0/0, alone or in parts)",
        id="an allowlist that together opens the internet",
    ),
    pytest.param(
        lambda: cluster(endpoint_public_access=True, public_access_cidrs=("203.0.113.7/24",)),
        "configuration: cluster.public_access_cidrs: '203.0.113.7/24' has host bits set; the network is '203.0.113.0/24'",
        id="an allowlist CIDR not canonical",
    ),
    # cluster
    pytest.param(
        lambda: group(instance_types=("m6i.huge",)),
        "configuration: cluster.node_groups.general.instance_types: 'm6i.huge' is not an EC2 instance type (environments/model/facts/ec2-instance-types.txt)",
        id="an instance type that does not exist",
    ),
    pytest.param(
        lambda: group(instance_types=("m7g.large",)),
        "configuration: cluster.node_groups.general.instance_types: 'm7g.large' is an arm64 instance type; the nodes' AMI (AL2023_x86_64_STANDARD) is x86_64",
        id="an arm64 instance type for the x86_64 AMI",
    ),
    pytest.param(
        lambda: group(instance_types=("g5.xlarge",)),
        "configuration: cluster.node_groups.general.instance_types: 'g5.xlarge' needs an accelerated or macOS AMI; the nodes run AL2023_x86_64_STANDARD",
        id="a GPU instance type for the standard AMI",
    ),
    pytest.param(
        lambda: group(name="general_1"),
        "configuration: cluster.node_groups.general_1.name: 'general_1' must be 2-32 lower-case letters, digits or hyphens, starting with a letter",
        id="a node group name with an underscore",
    ),
    pytest.param(
        lambda: group(max_size=1001),
        "configuration: cluster.node_groups.general.max_size: must be between 1 and 1000 (the EKS limit per node group), not 1001",
        id="a node group larger than EKS allows",
    ),
    pytest.param(
        lambda: group(disk_size_gib=10),
        "configuration: cluster.node_groups.general.disk_size_gib: must be between 20 and 1000 GiB, not 10",
        id="a disk too small",
    ),
    pytest.param(
        lambda: cluster(developers_group="system:masters"),
        "configuration: cluster.developers_group: 'system:masters' is not a valid Kubernetes group name (and 'system:' is reserved)",
        id="a developers group with the system: prefix",
    ),
    pytest.param(
        lambda: cluster(kubernetes_version=1.36),
        "configuration: cluster.kubernetes_version: must be a string, not the float 1.36",
        id="a Kubernetes version given as a number",
    ),
    # capacity (Karpenter) and the private paths to AWS
    pytest.param(
        lambda: cluster(karpenter=KarpenterConfig(capacity_types=())),
        "configuration: cluster.karpenter.capacity_types: must name at least one capacity type",
        id="a Karpenter pool without a capacity type",
    ),
    pytest.param(
        lambda: cluster(karpenter=KarpenterConfig(capacity_types=(CapacityType.SPOT, CapacityType.SPOT))),
        "configuration: cluster.karpenter.capacity_types: lists the capacity type 'SPOT' twice",
        id="a capacity type named twice",
    ),
    pytest.param(
        lambda: cluster(karpenter={"capacity_types": ("reserved",)}),
        "configuration: cluster.karpenter.capacity_types.0: must be one of CapacityType.ON_DEMAND, CapacityType.SPOT, not the str 'reserved'",
        id="a capacity type Karpenter does not know",
    ),
    pytest.param(
        lambda: cluster(karpenter=KarpenterConfig(cpu_limit=0)),
        "configuration: cluster.karpenter.cpu_limit: must be between 1 and 10000, not 0",
        id="a Karpenter cpu limit of zero",
    ),
    pytest.param(
        lambda: cluster(karpenter=KarpenterConfig(memory_limit_gib=100001)),
        "configuration: cluster.karpenter.memory_limit_gib: must be between 1 and 100000, not 100001",
        id="a Karpenter memory limit past the range",
    ),
    pytest.param(
        lambda: cluster(karpenter=KarpenterConfig(max_disrupted_percent=101)),
        "configuration: cluster.karpenter.max_disrupted_percent: must be between 1 and 100, not 101",
        id="a disruption budget over a hundred percent",
    ),
    pytest.param(
        lambda: environment(tier=Tier.PRODUCTION, cluster=cluster(karpenter=KarpenterConfig(capacity_types=(CapacityType.SPOT,)))),
        "environment 'qa': cluster.karpenter.capacity_types: a production-tier environment needs on-demand capacity, not spot alone",
        id="a production environment on spot alone",
    ),
    pytest.param(
        lambda: cluster(node_groups=(group(min_size=1, desired_size=1),)),
        "configuration: cluster.node_groups: the node groups keep 1 node(s) at their min_size; Karpenter's 2 controllers run on managed nodes, one per node, so keep at least 2",
        id="node groups too small for two Karpenter controllers",
    ),
    pytest.param(
        lambda: NetworkConfig(vpc_cidr="10.40.0.0/16", interface_endpoints=(InterfaceEndpoint.STS, InterfaceEndpoint.STS)),
        "configuration: network.interface_endpoints: lists the endpoint 'sts' twice",
        id="an interface endpoint named twice",
    ),
    pytest.param(
        lambda: NetworkConfig(vpc_cidr="10.40.0.0/16", interface_endpoints=("s3",)),
        "configuration: network.interface_endpoints.0: must be one of InterfaceEndpoint.ECR_API, InterfaceEndpoint.ECR_DKR, InterfaceEndpoint.STS, InterfaceEndpoint.EC2, InterfaceEndpoint.SQS, InterfaceEndpoint.LOGS, not the str 's3'",
        id="an interface endpoint the project does not offer",
    ),
    pytest.param(
        lambda: NetworkConfig(vpc_cidr="10.40.0.0/16", interface_endpoints=(InterfaceEndpoint.ECR_DKR, InterfaceEndpoint.STS)),
        "configuration: network.interface_endpoints: 'ecr.api' and 'ecr.dkr' come together: an image pull uses both, so one alone still pulls through NAT",
        id="half of the ECR endpoint pair",
    ),
    pytest.param(
        lambda: environment(
            tier=Tier.PRODUCTION, network=NetworkConfig(vpc_cidr="10.40.0.0/16", interface_endpoints=(InterfaceEndpoint.STS,))
        ),
        "environment 'qa': network.interface_endpoints: a production-tier environment pulls images through the 'ecr.api' and 'ecr.dkr' endpoints, not through NAT",
        id="a production environment pulling images through NAT",
    ),
    # edge, storage, gitops
    pytest.param(
        lambda: EdgeConfig(ssl_policy="ELBSecurityPolicy-TLS13-1-0-2021-06"),
        "configuration: edge.ssl_policy: 'ELBSecurityPolicy-TLS13-1-0-2021-06' also accepts TLS 1.0/1.1 (environments/model/facts/elb-tls-policies.tsv)",
        id="a TLS policy that accepts TLS 1.0",
    ),
    pytest.param(
        lambda: EdgeConfig(ingress_node_port=8080),
        "configuration: edge.ingress_node_port: 8080 is outside the Kubernetes NodePort range 30000-32767",
        id="a NodePort outside the range",
    ),
    pytest.param(
        lambda: environment(edge=EdgeConfig(waf_web_acl_arn=WAF.replace(ACCOUNT, "555555555555"))),
        "environment 'qa': edge.waf_web_acl_arn: must be a web ACL of this environment's partition, region and account (aws, eu-west-1, 444444444444)",
        id="a WAF ACL of another account",
    ),
    pytest.param(
        lambda: EdgeConfig(hosted_zone="plato_example.com"),
        "configuration: edge.hosted_zone: 'plato_example.com' is not a valid lower-case DNS domain name",
        id="a hosted zone that is not a DNS name",
    ),
    pytest.param(
        lambda: StorageConfig(backup_retention_days=4000),
        "configuration: storage.backup_retention_days: must be between 1 and 3650 days, not 4000",
        id="a backup retention out of range",
    ),
    pytest.param(
        lambda: GitOpsConfig(repository_url="http://gitlab.com/plato/platform.git", channel=Channel.MAIN),
        "configuration: gitops.repository_url: 'http://gitlab.com/plato/platform.git' is not an https:// or ssh://git@ repository URL",
        id="a repository URL over plain http",
    ),
    # tiers
    pytest.param(
        lambda: environment(tier=Tier.PRODUCTION, prevent_destroy=False),
        "environment 'qa': prevent_destroy: a production-tier environment must guard its stateful resources",
        id="a production environment that does not guard its state",
    ),
    pytest.param(
        lambda: environment(tier=Tier.PRODUCTION, network=NetworkConfig(vpc_cidr="10.40.0.0/16", az_count=2)),
        "environment 'qa': network.az_count: a production-tier environment must span at least 3 AZs",
        id="a production environment in two AZs",
    ),
    # sizes, lists, tiers and zones
    pytest.param(
        lambda: group(min_size=3, max_size=2, desired_size=3),
        "configuration: cluster.node_groups.general.max_size: 2 is less than min_size 3",
        id="a node group whose max is below its min",
    ),
    pytest.param(
        lambda: group(desired_size=9),
        "configuration: cluster.node_groups.general.desired_size: 9 is outside min_size..max_size (2..4)",
        id="a desired size outside the bounds",
    ),
    pytest.param(
        lambda: group(instance_types=()),
        "configuration: cluster.node_groups.general.instance_types: must name at least one instance type",
        id="a node group without instance types",
    ),
    pytest.param(
        lambda: group(instance_types=("m6i.large", "m6i.large")),
        "configuration: cluster.node_groups.general.instance_types: lists the instance type 'm6i.large' twice",
        id="an instance type listed twice",
    ),
    pytest.param(
        lambda: cluster(node_groups=(group(), group())),
        "configuration: cluster.node_groups: lists the node group 'general' twice",
        id="two node groups with one name",
    ),
    pytest.param(
        lambda: cluster(node_groups=()),
        "configuration: cluster.node_groups: at least one node group is required",
        id="a cluster without node groups",
    ),
    pytest.param(
        lambda: cluster(kubernetes_version="1.24"),
        "configuration: cluster.kubernetes_version: '1.24' is not supported; use one of ['1.35', '1.36']",
        id="a Kubernetes version without pinned add-ons",
    ),
    pytest.param(
        lambda: cluster(platform_admin_role_arns=()),
        "configuration: cluster.platform_admin_role_arns: at least one admin role is required (creator admin is off)",
        id="a cluster without an admin",
    ),
    pytest.param(
        lambda: cluster(endpoint_public_access=True),
        "configuration: cluster.public_access_cidrs: a public endpoint needs at least one allow-listed CIDR",
        id="a public endpoint without an allowlist",
    ),
    pytest.param(
        lambda: cluster(public_access_cidrs=("203.0.113.0/24",)),
        "configuration: cluster.public_access_cidrs: is set but the public endpoint is off",
        id="an allowlist for a private endpoint",
    ),
    pytest.param(
        lambda: cluster(endpoint_public_access=True, public_access_cidrs=tuple(f"203.0.{i}.0/24" for i in range(41))),
        "configuration: cluster.public_access_cidrs: lists 41 CIDRs; EKS allows 40",
        id="an allowlist longer than EKS allows",
    ),
    pytest.param(
        lambda: environment(cluster=cluster(viewer_role_arns=(f"arn:aws:iam::{ACCOUNT}:role/deploy",))),
        "environment 'qa': cluster.viewer_role_arns: 'arn:aws:iam::444444444444:role/deploy' is the deploy role, which is a cluster admin already",
        id="the deploy role as a viewer",
    ),
    pytest.param(
        lambda: environment(tier=Tier.PRODUCTION, cluster=cluster(endpoint_public_access=True, public_access_cidrs=("0.0.0.0/0",))),
        "environment 'qa': cluster.public_access_cidrs: a production-tier API endpoint must not be open to the whole internet (0.0.0.0/0, alone or in parts)",
        id="an open endpoint in production",
    ),
    pytest.param(
        lambda: environment(edge=EdgeConfig(alb_deletion_protection=False)),
        "environment 'qa': edge.alb_deletion_protection: a staging-tier ALB must be deletion-protected",
        id="an unprotected ALB in staging",
    ),
    pytest.param(
        lambda: environment(tier=Tier.PRODUCTION, network=NetworkConfig(vpc_cidr="10.40.0.0/16", nat=NatStrategy.SINGLE)),
        "environment 'qa': network.nat: a production-tier environment needs one NAT gateway per AZ ('per-az'), not a single shared one",
        id="a single NAT gateway in production",
    ),
    pytest.param(
        lambda: environment(edge=EdgeConfig(hosted_zone="other.example.com")),
        "environment 'qa': edge.hosted_zone: domain 'qa.plato.example.com' is not in the hosted zone 'other.example.com'",
        id="a domain outside its hosted zone",
    ),
    pytest.param(
        lambda: NetworkConfig(vpc_cidr="10.0.0.0/16", az_count=3, availability_zones=("eu-west-1a", "eu-west-1b")),
        "configuration: network.availability_zones: lists 2 zones but az_count is 3",
        id="pinned zones fewer than the AZ count",
    ),
    pytest.param(
        lambda: NetworkConfig(vpc_cidr="10.0.0.0/16", az_count=2, availability_zones=("eu-west-1a", "eu-west-1a")),
        "configuration: network.availability_zones: lists the zone 'eu-west-1a' twice",
        id="a zone pinned twice",
    ),
    pytest.param(
        lambda: NetworkConfig(vpc_cidr="10.0.0.0/24"),
        "configuration: network.vpc_cidr: prefix /24 is out of range: use /16 to /20 so the subnets can hold EKS pod IPs",
        id="a VPC too small for EKS",
    ),
    pytest.param(
        lambda: StateConfig(bucket="plato-tfstate-qa", key_prefix="/qa"),
        "configuration: state.key_prefix: '/qa' must be lower-case letters, digits, '/', '_' or '-', without leading or trailing '/'",
        id="a state key prefix with a leading slash",
    ),
    pytest.param(
        lambda: StorageConfig(log_retention_days=0),
        "configuration: storage.log_retention_days: must be between 1 and 3650 days, not 0",
        id="a log retention of zero days",
    ),
    pytest.param(
        lambda: StorageConfig(cluster_backup_retention_days=-1),
        "configuration: storage.cluster_backup_retention_days: must be between 0 (off) and 3650 days, not -1",
        id="a negative whole-cluster backup retention",
    ),
    pytest.param(
        lambda: StorageConfig(object_lock=ObjectLockConfig(days=3)),
        "configuration: storage.object_lock: locks the backup replica, so it needs a replica_region",
        id="object lock without a replica",
    ),
    pytest.param(
        lambda: StorageConfig(backup_retention_days=14, replica_region="eu-north-1", object_lock=ObjectLockConfig(days=20)),
        "configuration: storage.object_lock.days: must be between 1 and the longest backup retention (14 days), not 20: "
        "a longer lock keeps backups Velero has already deleted",
        id="an object lock longer than the backups are kept",
    ),
    pytest.param(
        lambda: StorageConfig(replica_region="eu-north-1", object_lock={"mode": "LEGAL_HOLD", "days": 3}),
        "configuration: storage.object_lock.mode: must be one of ObjectLockMode.GOVERNANCE, ObjectLockMode.COMPLIANCE, not the str 'LEGAL_HOLD'",
        id="an object lock mode S3 does not have",
    ),
    pytest.param(
        lambda: environment(storage=StorageConfig(replica_region="eu-west-9")),
        "environment 'qa': storage.replica_region: 'eu-west-9' is not an AWS region (environments/model/facts/aws-regions.tsv)",
        id="a replica region that does not exist",
    ),
    pytest.param(
        lambda: environment(storage=StorageConfig(replica_region="eu-west-1")),
        "environment 'qa': storage.replica_region: 'eu-west-1' is the environment's own region; a replica must survive its outage",
        id="a replica in the environment's own region",
    ),
    pytest.param(
        lambda: environment(storage=StorageConfig(replica_region="cn-north-1")),
        "environment 'qa': storage.replica_region: 'cn-north-1' is in partition aws-cn, but region eu-west-1 is in aws",
        id="a replica in another partition",
    ),
    pytest.param(
        lambda: environment(tier=Tier.PRODUCTION, storage=StorageConfig()),
        "environment 'qa': storage.replica_region: a production-tier environment keeps its backups and states in a second region; name one",
        id="a production environment without a second region",
    ),
    pytest.param(
        lambda: environment(state=StateConfig(bucket="plato-tfstate-qa-" + "x" * 40)),
        "environment 'qa': storage.replica_region: the state replica bucket: "
        f"'plato-tfstate-qa-{'x' * 40}-eu-north-1' is 68 characters long; S3 bucket names have 3 to 63",
        id="a state bucket whose replica name is too long",
    ),
    pytest.param(
        lambda: EdgeConfig(access_log_retention_days=0),
        "configuration: edge.access_log_retention_days: must be between 1 and 3650 days, not 0",
        id="an access log retention out of range",
    ),
    pytest.param(
        lambda: cluster(log_retention_days=100),
        "configuration: cluster.log_retention_days: 100 is not a CloudWatch Logs retention period (one of [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653])",
        id="a control-plane log retention CloudWatch does not offer",
    ),
    pytest.param(
        lambda: EdgeConfig(waf_web_acl_arn="arn:aws:wafv2:eu-west-1:1:global/webacl/x/y"),
        "configuration: edge.waf_web_acl_arn: 'arn:aws:wafv2:eu-west-1:1:global/webacl/x/y' is not a regional WAFv2 web ACL ARN",
        id="a malformed WAF ARN",
    ),
    pytest.param(
        lambda: GitOpsConfig(repository_url="https://gitlab.com/plato/platform.git", channel="main"),
        "configuration: gitops.channel: must be one of Channel.MAIN, Channel.RELEASE_CANDIDATES, Channel.RELEASES, not the str 'main'",
        id="a channel given as a string",
    ),
    # an ingress controller migration (docs/runbooks/edge-migration.md)
    pytest.param(
        lambda: RetiringTargetGroup(name="plato-qa-ingress", node_port=30080, weight=101),
        "configuration: edge.retiring_target_group.weight: is a percentage of the requests, 0 to 100, not 101",
        id="a retiring target group's weight above 100",
    ),
    pytest.param(
        lambda: EdgeConfig(retiring_target_group=RetiringTargetGroup(name="plato-qa-ingress", node_port=30080)),
        "configuration: edge.retiring_target_group.node_port: 30080 is also ingress_node_port; the two controllers must serve on different node ports side by side",
        id="a retiring target group on the Gateway's own node port",
    ),
    pytest.param(
        lambda: environment(
            edge=EdgeConfig(ingress_node_port=30081, retiring_target_group=RetiringTargetGroup(name="plato-qa-gateway", node_port=30080))
        ),
        "environment 'qa': edge.retiring_target_group.name: 'plato-qa-gateway' is the name of the Gateway's own target group; name the old one",
        id="a retiring target group named like the Gateway's",
    ),
    pytest.param(
        lambda: RetiringTargetGroup(name="plato-qa-ingress-of-the-old-controller", node_port=30080),
        "configuration: edge.retiring_target_group.name: 'plato-qa-ingress-of-the-old-controller' is 38 characters long; AWS allows 32",
        id="a retiring target group name longer than AWS allows",
    ),
    pytest.param(
        lambda: RetiringTargetGroup(name="plato-qa-ingress", node_port=8080),
        "configuration: edge.retiring_target_group.node_port: 8080 is outside the Kubernetes NodePort range 30000-32767",
        id="a retiring node port outside the NodePort range",
    ),
]


@pytest.mark.parametrize(("build", "line"), CASES)
def test_each_broken_rule_is_one_line_naming_the_field_and_the_rule(build: Callable[[], object], line: str) -> None:
    with pytest.raises(ConfigError) as info:
        build()
    assert str(info.value) == line


def test_there_are_at_least_forty_cases_and_no_two_print_the_same_line() -> None:
    lines = [case.values[1] for case in CASES]
    assert len(lines) >= 40
    assert len(set(lines)) == len(lines)


# --- what is accepted ----------------------------------------------------------------------


def test_lists_are_accepted_where_tuples_are_meant_and_kept_as_tuples() -> None:
    built = cluster(platform_admin_role_arns=[ADMIN], node_groups=[group()])
    assert built.platform_admin_role_arns == (ADMIN,)
    assert isinstance(built.node_groups, tuple)


def test_a_waf_web_acl_of_the_environment_s_own_account_and_region_is_accepted() -> None:
    assert environment(edge=EdgeConfig(waf_web_acl_arn=WAF)).edge.waf_web_acl_arn == WAF


def test_a_region_of_another_partition_is_accepted_with_roles_of_that_partition() -> None:
    china = environment(
        region="cn-north-1",
        deploy_role_arn=f"arn:aws-cn:iam::{ACCOUNT}:role/deploy",
        cluster=cluster(platform_admin_role_arns=(f"arn:aws-cn:iam::{ACCOUNT}:role/admin",)),
        storage=StorageConfig(replica_region="cn-northwest-1"),
    )
    assert (china.partition, china.network.zones(china.region)) == ("aws-cn", ("cn-north-1a", "cn-north-1b", "cn-north-1d"))


def test_zones_pinned_in_a_region_whose_zones_differ_by_account_are_accepted() -> None:
    pinned = NetworkConfig(vpc_cidr="10.40.0.0/16", az_count=2, availability_zones=("us-west-1b", "us-west-1c"))
    env = environment(region="us-west-1", network=pinned)
    assert env.network.zones(env.region) == ("us-west-1b", "us-west-1c")


def test_a_retiring_target_group_on_its_own_port_and_name_is_accepted() -> None:
    retiring = RetiringTargetGroup(name="plato-qa-ingress", node_port=30080, weight=0)
    env = environment(edge=EdgeConfig(ingress_node_port=30081, retiring_target_group=retiring))
    assert env.edge.retiring_target_group == retiring


def test_forty_one_extra_tags_fit_in_aws_s_fifty_with_the_ones_the_project_and_karpenter_add() -> None:
    assert len(environment(tags={f"t{i}": "x" for i in range(41)}).default_tags) == 44


# --- rules across environments: the later one in the registry's order is named -------------


def _other(**changes: object) -> EnvironmentConfig:
    fields = {
        "name": "qb",
        "domain": "qb.plato.example.com",
        "state": StateConfig(bucket="plato-tfstate-qb"),
        "network": NetworkConfig(vpc_cidr="10.41.0.0/16"),
    }
    return environment(**{**fields, **changes})


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        (
            {"network": NetworkConfig(vpc_cidr="10.40.128.0/17")},
            "environment 'qb': network.vpc_cidr: 10.40.128.0/17 overlaps 10.40.0.0/16 of environment 'qa'; VPCs must not overlap",
        ),
        (
            {"state": StateConfig(bucket="plato-tfstate-qa")},
            "environment 'qb': state.bucket: 'plato-tfstate-qa' is also used by environment 'qa'; each environment keeps its state in its own bucket",
        ),
        ({"domain": "qa.plato.example.com"}, "environment 'qb': domain: 'qa.plato.example.com' is also used by environment 'qa'"),
    ],
    ids=["overlapping VPCs", "a shared state bucket", "a shared domain"],
)
def test_a_conflict_between_environments_names_the_later_one(changes: dict[str, object], line: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_fleet([environment(), _other(**changes)])
    assert str(info.value) == line


def test_two_environments_creating_the_same_zone_conflict_but_may_share_an_existing_one() -> None:
    zone = "plato.example.com"
    with pytest.raises(ConfigError) as info:
        validate_fleet([environment(edge=EdgeConfig(hosted_zone=zone)), _other(edge=EdgeConfig(hosted_zone=zone))])
    assert str(info.value) == (
        "environment 'qb': edge.hosted_zone: environment 'qa' creates the zone 'plato.example.com' too; "
        "share it with create_hosted_zone = False in one of them"
    )
    validate_fleet([environment(edge=EdgeConfig(hosted_zone=zone)), _other(edge=EdgeConfig(hosted_zone=zone, create_hosted_zone=False))])


def test_the_same_conflict_is_blamed_on_whichever_environment_comes_later() -> None:
    clash = {"network": NetworkConfig(vpc_cidr="10.40.0.0/16")}
    with pytest.raises(ConfigError, match=r"^environment 'qa': network\.vpc_cidr: .* of environment 'qb'"):
        validate_fleet([_other(**clash), environment()])


# --- cost ----------------------------------------------------------------------------------


def test_validating_every_environment_takes_well_under_a_second() -> None:
    load_environments()  # the facts tables are read once per process
    start = time.perf_counter()
    for _ in range(10):
        for env in load_environments():
            EnvironmentConfig(**dict(env))
    assert (time.perf_counter() - start) / 10 < 1.0


def test_base_is_valid_so_each_case_breaks_only_its_own_rule() -> None:
    assert EnvironmentConfig(**base()).name == "qa"
    assert GitOpsConfig(repository_url="ssh://git@gitlab.com/plato/platform.git", channel=Channel.RELEASES).track
    assert StorageConfig().backup_bucket_expiry_days == 37
    assert environment(tier=Tier.PRODUCTION).deploys_need_approval
