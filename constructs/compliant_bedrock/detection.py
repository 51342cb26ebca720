"""Detection of what prevention in this account cannot stop: audit-plane tamper and guardrail bypass.

The key and bucket policies of the audit plane bind every principal of the account, but some calls
cannot be denied from inside the account (an administrator can stop the trail, delete invocation
logging or the enforced guardrail, create a Bedrock API key), and the organization's SCPs may not
be deployed yet. ``TamperDetection`` alarms on each of them (SI-4, AU-6, IR-5):

* EventBridge rules on the default bus match the CloudTrail records of those calls ("AWS API Call
  via CloudTrail"), so the account's trail must record management events (``AuditTrail`` does);
  Mantle inference is a CloudTrail **data** event, seen only if the trail selects Mantle data events;
* every rule targets one SNS topic, encrypted with a retained, tamper-protected CMK, whose policy
  lets only these rules publish (``aws:SourceArn``) and refuses non-TLS requests.

EventBridge rules are regional: IAM events (API-key creation) reach EventBridge in the partition's
IAM region only (us-east-1, us-gov-west-1), so that rule fires only where the stack runs there.
The event names and fields used are data in ``DETECTIONS`` with their source.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from .compliance.rules.audit import REQUIRED_TAMPER_EVENTS
from .errors import ConstructPropsError
from .kms import AuditAdmins, protect_audit_key, retained_key

CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"


@dataclass(frozen=True)
class Detection:
    """One EventBridge rule: CloudTrail records of ``event_names`` from ``event_sources``."""

    name: str
    description: str
    event_sources: tuple[str, ...]
    event_names: tuple[str, ...] = ()
    #: Extra ``detail`` matchers (EventBridge pattern syntax).
    detail: tuple[tuple[str, object], ...] = ()
    source: str = ""

    def pattern(self) -> dict:
        detail: dict = {"eventSource": list(self.event_sources)}
        if self.event_names:
            detail["eventName"] = list(self.event_names)
        for path, matcher in self.detail:
            target = detail
            *parents, leaf = path.split(".")
            for part in parents:
                target = target.setdefault(part, {})
            target[leaf] = matcher
        return {"detail-type": [CLOUDTRAIL_DETAIL_TYPE], "detail": detail}


#: What is detected, by service. Event names are the CloudTrail names (S3 logs PutBucketLifecycle for
#: PutBucketLifecycleConfiguration, PutBucketReplication for PutReplicationConfiguration).
DETECTIONS: tuple[Detection, ...] = (
    Detection("TrailTamper", "The audit trail was stopped, deleted or changed", ("cloudtrail.amazonaws.com",),
              ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "PutInsightSelectors")),
    Detection("BedrockAuditTamper", "Bedrock invocation logging or the enforced guardrail was changed or removed",
              ("bedrock.amazonaws.com",),
              ("DeleteModelInvocationLoggingConfiguration", "PutModelInvocationLoggingConfiguration",
               "DeleteEnforcedGuardrailConfiguration", "PutEnforcedGuardrailConfiguration")),
    Detection("KeyTamper", "A KMS key was scheduled for deletion, disabled or given a new policy",
              ("kms.amazonaws.com",), ("ScheduleKeyDeletion", "DisableKey", "PutKeyPolicy")),
    Detection("BucketTamper", "An S3 bucket's Object Lock, policy, lifecycle or replication was changed",
              ("s3.amazonaws.com",),
              ("PutBucketObjectLockConfiguration", "PutBucketPolicy", "DeleteBucketPolicy", "PutBucketLifecycle",
               "PutBucketReplication")),
    Detection("LogGroupTamper", "A log group was deleted, its retention changed or its key removed",
              ("logs.amazonaws.com",), ("DeleteLogGroup", "PutRetentionPolicy", "DisassociateKmsKey")),
    Detection("BedrockApiKeyCreated", "A long-term Bedrock API key (service-specific credential) was created",
              ("iam.amazonaws.com",), ("CreateServiceSpecificCredential",),
              (("requestParameters.serviceName", ["bedrock.amazonaws.com"]),),
              source="https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys-permissions.html"),
    # Documented for bedrock-mantle (requestParameters.callWithBearerToken); assumed to be the same field
    # on bedrock-runtime records (UNCERTAIN: not found in the bedrock-runtime CloudTrail page).
    Detection("BedrockApiKeyUsed", "A Bedrock API key (bearer token) was used",
              ("bedrock.amazonaws.com", "bedrock-mantle.amazonaws.com"), (),
              (("requestParameters.callWithBearerToken", [True]),),
              source="https://docs.aws.amazon.com/bedrock/latest/userguide/logging-cloudtrail-mantle.html"),
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MANTLE_PROJECT_ARN = re.compile(r"^arn:aws[a-z-]*:bedrock-mantle:[a-z0-9-]+:\d{12}:project/[A-Za-z0-9_-]+$")


class TamperDetection(Construct):
    """EventBridge rules for audit-plane tamper and guardrail bypass, alerting an encrypted SNS topic.

    :param alert_emails: addresses subscribed to the topic (each must confirm the subscription). The
        topic exists regardless: subscribe a SIEM, a chat integration or a ticketing queue to it.
    :param approved_mantle_project_arns: Mantle projects inference may use; with any, a rule alerts on
        ``bedrock-mantle`` ``CreateInference`` against any other project. Needs the trail to select
        Mantle data events (``AWS::BedrockMantle::Project``): without them nothing reaches EventBridge.
    :param audit_admins: roles exempt from the topic key's tamper denies (see ``protect_audit_key``).

    Attributes: ``key``, ``topic``, ``rules`` (name -> ``events.CfnRule``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alert_emails: Sequence[str] = (),
        approved_mantle_project_arns: Sequence[str] = (),
        audit_admins: AuditAdmins | None = AuditAdmins(),  # noqa: B008 (frozen, immutable)
    ) -> None:
        super().__init__(scope, construct_id)
        where = f"TamperDetection {construct_id!r}"
        for email in alert_emails:
            if not isinstance(email, str) or not _EMAIL.fullmatch(email):
                raise ConstructPropsError(f"{where}: alert_emails: {email!r} is not an email address (name@domain)")
        for arn in approved_mantle_project_arns:
            if not isinstance(arn, str) or (not Token.is_unresolved(arn) and not _MANTLE_PROJECT_ARN.fullmatch(arn)):
                raise ConstructPropsError(f"{where}: approved_mantle_project_arns: {arn!r} is not a Mantle project ARN "
                                 "(arn:<partition>:bedrock-mantle:<region>:<account>:project/<id>)")
        stack = Stack.of(self)

        self.key = retained_key(self, "Key", description=f"Tamper alerts of {stack.stack_name} (SNS encryption)")
        if audit_admins is not None:
            protect_audit_key(self.key, audit_admins)
        # EventBridge publishes to an encrypted topic only with this grant (AWS's documented statement for
        # SSE topics); the topic policy below decides which rules may publish at all.
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowEventBridgeToPublishEncryptedAlerts",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],
        ))
        self.topic = sns.Topic(self, "Topic", display_name="compliant-bedrock tamper alerts", master_key=self.key,
                               enforce_ssl=True)

        detections = list(DETECTIONS)
        if approved_mantle_project_arns:
            detections.append(Detection(
                "MantleOutsideApprovedProject", "Mantle inference on a project other than the approved ones",
                ("bedrock-mantle.amazonaws.com",), ("CreateInference",),
                (("resources.ARN", [{"anything-but": list(approved_mantle_project_arns)}]),),
                source="https://docs.aws.amazon.com/bedrock/latest/userguide/logging-cloudtrail-mantle.html"))
        self.rules: dict[str, events.CfnRule] = {}
        for detection in detections:
            self.rules[detection.name] = events.CfnRule(
                self, detection.name,
                description=f"compliant-bedrock: {detection.description}",
                event_pattern=detection.pattern(),
                state="ENABLED",
                targets=[events.CfnRule.TargetProperty(arn=self.topic.topic_arn, id="TamperAlerts")],
            )
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowOnlyTheTamperRulesToPublish",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[self.topic.topic_arn],
            conditions={"ArnEquals": {"aws:SourceArn": [rule.attr_arn for rule in self.rules.values()]}},
        ))
        for index, email in enumerate(alert_emails):
            sns.Subscription(self, f"Email{index}", topic=self.topic, endpoint=email,
                             protocol=sns.SubscriptionProtocol.EMAIL)


__all__ = ["DETECTIONS", "REQUIRED_TAMPER_EVENTS", "Detection", "TamperDetection"]
