"""Flow logs of a VPC: every accepted and rejected flow, to a KMS-encrypted log group."""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from platform_constructs.checkov import skip_check
from platform_constructs.context import Deployment


class FlowLogs:
    """Adds a VPC's flow log, its log group and its delivery role to ``scope``."""

    def __init__(self, scope: Construct, *, deployment: Deployment, vpc_id: str, retention_days: int, kms_key_arn: str) -> None:
        d = deployment
        self.log_group = CloudwatchLogGroup(
            scope,
            "flow-log-group",
            name=f"/aws/vpc/{d.name_prefix}/flow-logs",
            retention_in_days=retention_days,
            kms_key_id=kms_key_arn,
        )
        if retention_days < 365:
            skip_check(
                self.log_group,
                "CKV_AWS_338",
                f"retention is {retention_days} days by this environment's configuration "
                "(network.flow_log_retention_days): a cost choice for a non-production tier",
            )
        role = IamRole(
            scope,
            "flow-log-role",
            name=f"{d.name_prefix}-vpc-flow-logs",
            assume_role_policy=json.dumps(d.service_trust("vpc-flow-logs.amazonaws.com"), sort_keys=True),
        )
        IamRolePolicy(
            scope,
            "flow-log-policy",
            name="write-flow-logs",
            role=role.id,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                            "Resource": [self.log_group.arn, f"{self.log_group.arn}:*"],
                        }
                    ],
                },
                sort_keys=True,
            ),
        )
        self.flow_log = FlowLog(
            scope,
            "flow-log",
            vpc_id=vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": f"{d.name_prefix}-flow-logs"},
        )
