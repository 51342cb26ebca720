"""The IAM-event rules of an environment whose region is not its partition's IAM region.

IAM is global: its CloudTrail events (a Bedrock API key created) reach EventBridge only in the partition's
IAM region (us-east-1, us-gov-west-1). A rule in the environment's own region would never fire, so
``<stack>-iam-events`` puts it in the IAM region of the same account, alerting the environment's subscribers
(its own topic for the addresses; the event buses directly, across regions).
"""

from __future__ import annotations

from aws_cdk import Stack, Tags
from constructs import Construct

from compliant_bedrock.detection import TamperDetection

from .config import EnvironmentSettings

STACK_SUFFIX = "-iam-events"


class IamEventsStack(Stack):
    """``<stack_name>-iam-events``: the environment's IAM-event detection, in its partition's IAM region."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: EnvironmentSettings) -> None:
        region = settings.iam_events_region
        assert region is not None  # only built for an environment outside its partition's IAM region
        super().__init__(
            scope, construct_id,
            env={"account": settings.account, "region": region} if settings.account else {"region": region},
            description=f"compliant-bedrock IAM-event detection of {settings.name} (IAM delivers its events "
                        f"in {region} only)",
            termination_protection=True,
        )
        self.settings = settings
        for key, value in settings.stack_tags().items():
            Tags.of(self).add(key, value)
        self.detection = TamperDetection(self, "TamperDetection", alert_emails=settings.audit.alert_emails,
                                         alert_event_bus_arns=settings.audit.alert_event_bus_arns,
                                         audit_admins=settings.audit_admins, iam_events_only=True)
