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

* somebody receives them: addresses subscribed to the topic (``alert_emails``) and/or event buses
  (``alert_event_bus_arns``, e.g. of the security account), each a target of every rule through a role
  EventBridge assumes that may put events on exactly that bus; with neither, the construct refuses;
* silencing them is detected too: disabling, deleting or re-targeting a rule, deleting, re-policing or
  unsubscribing a topic (``DetectionRuleTamper``, ``AlertTopicTamper``); a bus of another account is out of
  reach of this account's administrators, so it still hears of it.

EventBridge rules are regional: IAM events (API-key creation) reach EventBridge in the partition's
IAM region only (us-east-1, us-gov-west-1). The IAM rules are created only there (a template condition on
``AWS::Region``); a stack in another region leaves them to a stack in the IAM region
(``iam_events_only=True``; the reference app adds ``<stack>-iam-events``).
The event names and fields used are data in ``DETECTIONS`` with their source.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Aws, CfnCondition, Fn, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from .arns import iam_event_region, stack_partition
from .compliance.rules.audit import IAM_EVENT_REGIONS, REQUIRED_MANTLE_DATA_TYPES, REQUIRED_TAMPER_EVENTS
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
    #: The trail data-event types the matched records are (empty: management events, always recorded).
    data_events: tuple[str, ...] = ()

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
    # Silencing the alarm itself: a rule disabled, deleted or re-targeted, a topic deleted, re-policed, its
    # subscriptions removed or re-configured, or a data-protection policy that denies the alerts' content.
    Detection("DetectionRuleTamper", "An EventBridge rule was disabled, deleted, changed or re-targeted",
              ("events.amazonaws.com",), ("DisableRule", "DeleteRule", "RemoveTargets", "PutRule", "PutTargets")),
    Detection("AlertTopicTamper", "An SNS topic was deleted or re-policed, or a subscription removed or changed",
              ("sns.amazonaws.com",),
              ("Unsubscribe", "SetTopicAttributes", "DeleteTopic", "RemovePermission", "AddPermission",
               "SetSubscriptionAttributes", "PutDataProtectionPolicy")),
    Detection("BedrockApiKeyCreated", "A long-term Bedrock API key (service-specific credential) was created",
              ("iam.amazonaws.com",), ("CreateServiceSpecificCredential",),
              (("requestParameters.serviceName", ["bedrock.amazonaws.com"]),),
              source="https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys-permissions.html"),
    # Documented for bedrock-mantle (requestParameters.callWithBearerToken); assumed to be the same field
    # on bedrock-runtime records (UNCERTAIN: not found in the bedrock-runtime CloudTrail page). Invocations are
    # data events: seen only if the trail selects AWS::Bedrock::Model (Mantle's: MANTLE_API_KEY_USED).
    Detection("BedrockApiKeyUsed", "A Bedrock API key (bearer token) was used",
              ("bedrock.amazonaws.com",), (),
              (("requestParameters.callWithBearerToken", [True]),),
              source="https://docs.aws.amazon.com/bedrock/latest/userguide/logging-cloudtrail-mantle.html",
              data_events=("AWS::Bedrock::Model",)),
)
#: Detections on bedrock-mantle data events, for a stack whose trail selects them (with approved Mantle projects).
MANTLE_API_KEY_USED = Detection(
    "MantleApiKeyUsed", "A Bedrock API key (bearer token) was used on bedrock-mantle", ("bedrock-mantle.amazonaws.com",),
    (), (("requestParameters.callWithBearerToken", [True]),),
    source="https://docs.aws.amazon.com/bedrock/latest/userguide/logging-cloudtrail-mantle.html",
    data_events=REQUIRED_MANTLE_DATA_TYPES)

#: The detections on IAM's events: they reach EventBridge only in the partition's IAM region.
IAM_DETECTIONS = tuple(d.name for d in DETECTIONS if "iam.amazonaws.com" in d.event_sources)
#: EventBridge allows five targets per rule: the alert topic and up to four event buses.
MAX_ALERT_EVENT_BUSES = 4
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EVENT_BUS_ARN_PATTERN = re.compile(r"^arn:(aws[a-z-]*):events:([a-z0-9-]+):(\d{12}):event-bus/([\w.\-/]{1,256})$")
_MANTLE_PROJECT_ARN = re.compile(r"^arn:aws[a-z-]*:bedrock-mantle:[a-z0-9-]+:\d{12}:project/[A-Za-z0-9_-]+$")


class TamperDetection(Construct):
    """EventBridge rules for audit-plane tamper and guardrail bypass, alerting an encrypted SNS topic and the
    security account.

    :param alert_emails: addresses subscribed to the topic (each must confirm the subscription).
    :param alert_event_bus_arns: event buses every rule also forwards to (at most four), e.g. of the security
        account (its bus policy must admit this account's ``events:PutEvents``), in any region of the partition:
        each through its own role that EventBridge assumes and that may put events on exactly that bus. Alerts
        need a receiver: ``alert_emails`` or ``alert_event_bus_arns`` must name at least one.
    :param approved_mantle_project_arns: Mantle projects inference may use; with any, rules alert on
        ``bedrock-mantle`` ``CreateInference`` against any other project and on Mantle bearer-token use. They need
        the trail to select Mantle data events (``AWS::BedrockMantle::*``): without them nothing reaches EventBridge.
    :param audit_admins: roles exempt from the topic key's tamper denies (see ``protect_audit_key``).
    :param iam_events_only: only the IAM-event rules (``IAM_DETECTIONS``), for a stack in the partition's IAM region
        that complements stacks in other regions. Otherwise every rule, the IAM ones only where IAM delivers
        its events (a template condition on ``AWS::Region``; none in a stack of another known region).
    :param data_event_rules: the rules on CloudTrail DATA events (bearer-token use, Mantle on another project),
        which fire only if a trail selects those events (``Bedrock-DetectionDataEventsSelected`` checks the
        stack's trail). False where no trail selecting them is known: no rule claims what it cannot see.

    Attributes: ``key``, ``topic``, ``rules`` (name -> ``events.CfnRule``), ``delivery_roles`` (bus ARN -> role),
    ``iam_event_region`` (where IAM's events arrive; None where unknown), ``detects_iam_events``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alert_emails: Sequence[str] = (),
        alert_event_bus_arns: Sequence[str] = (),
        approved_mantle_project_arns: Sequence[str] = (),
        audit_admins: AuditAdmins | None = AuditAdmins(),  # noqa: B008 (frozen, immutable)
        iam_events_only: bool = False,
        data_event_rules: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        where = f"TamperDetection {construct_id!r}"
        stack = Stack.of(self)
        for email in alert_emails:
            if not isinstance(email, str) or not _EMAIL.fullmatch(email):
                raise ConstructPropsError(f"{where}: alert_emails: {email!r} is not an email address (name@domain)")
        self._check_buses(where, stack, list(alert_event_bus_arns))
        if not alert_emails and not alert_event_bus_arns:
            raise ConstructPropsError(f"{where}: alert_emails / alert_event_bus_arns: no alert subscriber; tamper "
                                      "alerts would reach nobody. Name addresses (alert_emails) or an event bus of the "
                                      "security account (alert_event_bus_arns: arn:<partition>:events:<region>:"
                                      "<account>:event-bus/<name>)")
        for arn in approved_mantle_project_arns:
            if not isinstance(arn, str) or (not Token.is_unresolved(arn) and not _MANTLE_PROJECT_ARN.fullmatch(arn)):
                raise ConstructPropsError(f"{where}: approved_mantle_project_arns: {arn!r} is not a Mantle project ARN "
                                 "(arn:<partition>:bedrock-mantle:<region>:<account>:project/<id>)")
        partition = stack_partition(stack)
        self.iam_event_region = iam_event_region(partition) if partition else None
        region_known = not Token.is_unresolved(stack.region)
        if iam_events_only and (not region_known or stack.region != self.iam_event_region):
            raise ConstructPropsError(f"{where}: iam_events_only: the stack's region must be its partition's IAM region "
                                      f"({', '.join(f'{p}: {r}' for p, r in IAM_EVENT_REGIONS.items())}), where IAM's "
                                      f"events reach EventBridge; it is {stack.region!r}")
        # Where IAM delivers its events: always, in an env-agnostic stack, under a region condition.
        # Elsewhere (detects_iam_events False) a stack in iam_event_region must carry them (iam_events_only=True).
        self.detects_iam_events = (stack.region == self.iam_event_region) if region_known else True

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
        self.delivery_roles: dict[str, iam.Role] = {
            arn: self._delivery_role(index, arn) for index, arn in enumerate(alert_event_bus_arns)}

        detections = [d for d in DETECTIONS if (d.name in IAM_DETECTIONS) == iam_events_only
                      or (d.name in IAM_DETECTIONS and self.detects_iam_events)]
        if approved_mantle_project_arns and not iam_events_only:
            detections.append(MANTLE_API_KEY_USED)
            detections.append(Detection(
                "MantleOutsideApprovedProject", "Mantle inference on a project other than the approved ones",
                ("bedrock-mantle.amazonaws.com",), ("CreateInference",),
                (("resources.ARN", [{"anything-but": list(approved_mantle_project_arns)}]),),
                source="https://docs.aws.amazon.com/bedrock/latest/userguide/logging-cloudtrail-mantle.html",
                data_events=REQUIRED_MANTLE_DATA_TYPES))
        if not data_event_rules:
            detections = [d for d in detections if not d.data_events]
        in_iam_region: CfnCondition | None = None
        if any(d.name in IAM_DETECTIONS for d in detections):
            regions = [self.iam_event_region] if self.iam_event_region else list(IAM_EVENT_REGIONS.values())
            equals = [Fn.condition_equals(Aws.REGION, r) for r in regions]
            in_iam_region = CfnCondition(self, "InIamEventRegion",
                                         expression=equals[0] if len(equals) == 1 else Fn.condition_or(*equals))
        targets = [events.CfnRule.TargetProperty(arn=self.topic.topic_arn, id="TamperAlerts")] + [
            events.CfnRule.TargetProperty(arn=arn, id=f"AlertBus{index}", role_arn=role.role_arn)
            for index, (arn, role) in enumerate(self.delivery_roles.items())]
        self.rules: dict[str, events.CfnRule] = {}
        publishers = []
        for detection in detections:
            rule = self.rules[detection.name] = events.CfnRule(
                self, detection.name,
                description=f"compliant-bedrock: {detection.description}",
                event_pattern=detection.pattern(),
                state="ENABLED",
                targets=targets,
            )
            if detection.name in IAM_DETECTIONS and in_iam_region is not None:
                rule.cfn_options.condition = in_iam_region
                publishers.append(Fn.condition_if(in_iam_region.logical_id, rule.attr_arn, Aws.NO_VALUE))
            else:
                publishers.append(rule.attr_arn)
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowOnlyTheTamperRulesToPublish",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[self.topic.topic_arn],
            conditions={"ArnEquals": {"aws:SourceArn": publishers}},
        ))
        for index, email in enumerate(alert_emails):
            sns.Subscription(self, f"Email{index}", topic=self.topic, endpoint=email,
                             protocol=sns.SubscriptionProtocol.EMAIL)

    @staticmethod
    def _check_buses(where: str, stack: Stack, arns: list[str]) -> None:
        partition = stack_partition(stack)
        for arn in arns:
            match = EVENT_BUS_ARN_PATTERN.fullmatch(arn) if isinstance(arn, str) and not Token.is_unresolved(arn) else None
            if match is None:
                raise ConstructPropsError(f"{where}: alert_event_bus_arns: {arn!r} is not a literal event bus ARN "
                                          "(arn:<partition>:events:<region>:<account>:event-bus/<name>)")
            if partition is not None and match.group(1) != partition:
                raise ConstructPropsError(f"{where}: alert_event_bus_arns: {arn!r} is in partition {match.group(1)!r}, "
                                          f"not the stack's {partition!r}; EventBridge delivers within a partition")
            if (match.group(2), match.group(3)) == (stack.region, stack.account):
                raise ConstructPropsError(f"{where}: alert_event_bus_arns: {arn!r} is a bus of this stack's own account "
                                          "and region: the alerts would stay where an administrator silences them; "
                                          "name a bus of the security account")
        if len(set(arns)) != len(arns):
            raise ConstructPropsError(f"{where}: alert_event_bus_arns: {arns!r} names a bus more than once")
        if len(arns) > MAX_ALERT_EVENT_BUSES:
            raise ConstructPropsError(f"{where}: alert_event_bus_arns: {len(arns)} buses; an EventBridge rule has at most "
                                      f"5 targets (the topic and {MAX_ALERT_EVENT_BUSES} buses)")

    def _delivery_role(self, index: int, bus_arn: str) -> iam.Role:
        """A role EventBridge assumes to put the alerts on ``bus_arn``: that one bus, that one action, and denies
        around the grant so that a policy attached later cannot widen it."""
        policy = iam.ManagedPolicy(
            self, f"AlertBus{index}Policy",
            description=f"Lets EventBridge forward tamper alerts to {bus_arn} only.",
            statements=[
                iam.PolicyStatement(sid="PutAlertsOnTheSecurityBus", actions=["events:PutEvents"], resources=[bus_arn]),
                iam.PolicyStatement(sid="DenyOtherBuses", effect=iam.Effect.DENY, actions=["events:PutEvents"],
                                    not_resources=[bus_arn]),
                iam.PolicyStatement(sid="DenyEverythingElse", effect=iam.Effect.DENY, not_actions=["events:PutEvents"],
                                    resources=["*"]),
            ],
        )
        return iam.Role(
            self, f"AlertBus{index}Role",
            # Only EventBridge; only a principal of this account allowed iam:PassRole can put it on a rule
            # (roles are never passed across accounts), and the organization's SCPs deny changing the package's rules.
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            managed_policies=[policy],
            description=f"EventBridge forwards tamper alerts to {bus_arn}",
        )


__all__ = ["DETECTIONS", "IAM_DETECTIONS", "REQUIRED_TAMPER_EVENTS", "Detection", "TamperDetection"]
