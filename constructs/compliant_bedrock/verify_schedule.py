"""The deployed twin, every week: ``make synth`` and ``make verify`` in CodeBuild, on EventBridge Scheduler.

FedRAMP 20x asks for machine-readable validation at least every 7 days (KSI-MLA-EVC). ``ScheduledVerification``
runs the same commands a person runs (docs/verify.md) in the security account: a CodeBuild project, not a Lambda
function, because the verifier compares the account with the templates the same code synthesizes *now*, and a
synth needs the checkout, Node, the CDK CLI and the IAM simulator (minutes, gigabytes), none of which fits a
function's package or its 15-minute limit. The project's role assumes one read-only role per member account
(``read_role_arns``: create them with docs/verify.md's policy), writes ``cdk.out/compliance/verified-*`` into an
Object-Locked ``AuditBucket``, and a failed build (exit 1: a contradiction; 2 or 3: it could not verify) alerts
the same way tamper alerts do: an encrypted SNS topic (email) and/or the security account's event bus.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from .audit_bucket import AuditBucket
from .compliance import suppress
from .errors import ConstructPropsError
from .kms import AuditAdmins, retained_key
from .log_groups import encrypted_log_group
from .partitions import SCHEDULER_PARTITIONS

#: What ``make verify`` reads in an account (docs/verify.md): Describe, Get and List only, plus DetectStackDrift,
#: which records a drift result in CloudFormation and changes no resource.
VERIFY_READ_ACTIONS: tuple[str, ...] = (
    "cloudformation:DescribeStacks", "cloudformation:ListStackResources", "cloudformation:DetectStackDrift",
    "cloudformation:DescribeStackDriftDetectionStatus", "cloudformation:DescribeStackResourceDrifts",
    "cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors",
    "bedrock:GetModelInvocationLoggingConfiguration", "bedrock:GetGuardrail",
    "bedrock:ListEnforcedGuardrailsConfiguration", "ec2:DescribeVpcEndpoints", "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus", "s3:GetBucketPolicy", "s3:GetBucketObjectLockConfiguration", "events:DescribeRule",
    "events:ListTargetsByRule", "sns:GetSubscriptionAttributes",
    # a Mantle project through Cloud Control (Mantle has no API of its own in boto3): Cloud Control's read, and the
    # project's read actions its handler calls with the caller's credentials
    "cloudformation:GetResource", "bedrock-mantle:GetProject", "bedrock-mantle:ListTagsForResource",
)
#: What it reads of the organization (the management account or a delegated administrator).
VERIFY_ORGANIZATION_ACTIONS: tuple[str, ...] = ("organizations:ListPoliciesForTarget", "organizations:DescribePolicy")

#: At least weekly (KSI-MLA-EVC): ``rate(N days)`` with N <= 7, or a cron expression.
_WEEKLY = re.compile(r"^(rate\(([1-7]) days?\)|rate\(\d+ hours?\)|cron\(.+\))$")
_ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{1,23}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@/_-]+$")


class ScheduledVerification(Construct):
    """A weekly ``make verify`` of ``environments`` from a zip of your app and its config in ``source_bucket``.

    :param source_bucket: the bucket holding the app (your pipeline uploads ``source_key`` after each merge).
    :param source_key: the zip's key: a checkout of the app with ``config/`` and ``Makefile``.
    :param environments: the environment names (``config/<name>.yaml``) to verify; each one's ``verify.role_arn``
        names its read-only role in ``read_role_arns``.
    :param read_role_arns: the read-only roles the project may assume, one per member account (exact ARNs).
    :param schedule: an EventBridge Scheduler expression, at least weekly (default ``rate(7 days)``).
    :param alert_emails: addresses told of a failed verification (each confirms by email).
    :param alert_event_bus_arns: event buses (the security account's) told of a failed verification.
    :param object_lock_days: default retention of the results (COMPLIANCE mode).
    :param audit_admins: the only roles that may change the results bucket's and key's policies (``AuditAdmins``).
    :param project_role_name: the project role's name, so each member account's ``VerifierReadRole`` can trust its
        exact ARN before it exists (default: a name CloudFormation generates; read it from ``.role.role_arn``).

    Where the stack's partition documents EventBridge Scheduler (``partitions.SCHEDULER_PARTITIONS``) the schedule is
    a Scheduler schedule; elsewhere (GovCloud) an EventBridge scheduled rule with the same expression and target.

    Every role here has its policy written out as a managed policy (IAMNoInlinePolicy): the project's role is
    closed to CDK's own grants, so what it may do is exactly this list, and nothing a later grant adds.
    """

    def __init__(self, scope: Construct, construct_id: str, *, source_bucket: s3.IBucket, source_key: str,
                 environments: Sequence[str], read_role_arns: Sequence[str], schedule: str = "rate(7 days)",
                 alert_emails: Sequence[str] = (), alert_event_bus_arns: Sequence[str] = (),
                 object_lock_days: int = 365, log_retention_days: int = 365,
                 project_role_name: str | None = None,
                 audit_admins: AuditAdmins | None = AuditAdmins()) -> None:  # noqa: B008 (frozen, immutable)
        super().__init__(scope, construct_id)
        _check(environments, read_role_arns, schedule, alert_emails, alert_event_bus_arns, project_role_name)
        stack = Stack.of(self)
        key = retained_key(self, "Key", description="Encrypts the weekly verification's build, logs and alerts.")
        key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com"))
        log_group = encrypted_log_group(self, "BuildLogs", key=key, retention_days=log_retention_days)
        self.role = iam.Role(self, "ProjectRole", role_name=project_role_name, assumed_by=iam.ServicePrincipal(
            "codebuild.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}),
            description="compliant-bedrock verify: reads member accounts through their read-only roles")
        self.results = AuditBucket(self, "Results", object_lock_days=object_lock_days, audit_admins=audit_admins,
                                   delivering_role_arns=[self.role.role_arn])
        policy = iam.ManagedPolicy(self, "ProjectPolicy", statements=[
            iam.PolicyStatement(sid="WriteBuildLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                resources=[log_group.log_group_arn]),
            iam.PolicyStatement(sid="ReadTheApp", actions=["s3:GetObject", "s3:GetObjectVersion"],
                                resources=[source_bucket.arn_for_objects(source_key)]),
            iam.PolicyStatement(sid="WriteResults", actions=["s3:PutObject"],
                                resources=[self.results.bucket.arn_for_objects("*")]),
            iam.PolicyStatement(sid="UseTheKeys", actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                                resources=[key.key_arn, self.results.key.key_arn]),
            iam.PolicyStatement(sid="AssumeTheReadOnlyRoles", actions=["sts:AssumeRole"],
                                resources=list(read_role_arns)),
        ])
        self.role.add_managed_policy(policy)
        bucket_id = Stack.of(self).get_logical_id(self.results.bucket.node.default_child)
        suppress(policy, "AwsSolutions-IAM5", applies_to=[f"Resource::<{bucket_id}.Arn>/*"],
                 reason="Each run writes its evidence under a new timestamped prefix of the Object-Locked results "
                        "bucket, so the object keys are not known in advance; only PutObject, only that bucket.")
        # One synth of the app, then each environment's verification: a synth removes compliance/, so synthesizing
        # per environment would keep only the last one's results. Each verify renders the evidence again with its
        # claims (the matrices' "verified in account", contradictions as POA&M items); the whole set is kept.
        commands = ["make synth || failed=1", *(f"make verify ENV={env} || failed=1" for env in environments)]
        self.project = codebuild.Project(
            self, "Project", source=codebuild.Source.s3(bucket=source_bucket, path=source_key), encryption_key=key,
            role=self.role.without_policy_updates(),
            description="compliant-bedrock verify: the deployed accounts against the synthesized templates",
            environment=codebuild.BuildEnvironment(build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                                                   privileged=False),
            logging=codebuild.LoggingOptions(cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)),
            timeout=Duration.hours(2),
            build_spec=codebuild.BuildSpec.from_object({
                "version": "0.2",
                "phases": {"build": {"commands": [
                    "failed=0", *commands,
                    'aws s3 cp cdk.out/compliance/ "s3://$RESULTS/$(date -u +%Y-%m-%dT%H%M%SZ)/" --recursive',
                    "exit $failed"]}}}),
            environment_variables={"RESULTS": codebuild.BuildEnvironmentVariable(value=self.results.bucket.bucket_name)})
        # EventBridge Scheduler where the partition documents it; elsewhere (aws-us-gov) an EventBridge scheduled
        # rule, which every partition has: the same expression, the same CodeBuild target (partitions.py cites both).
        self.uses_scheduler = _partition(stack) in SCHEDULER_PARTITIONS
        start = iam.ManagedPolicy(self, "SchedulePolicy", statements=[iam.PolicyStatement(
            sid="StartTheVerification", actions=["codebuild:StartBuild"], resources=[self.project.project_arn])])
        if self.uses_scheduler:
            schedule_role = iam.Role(self, "ScheduleRole", assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}),
                managed_policies=[start])
            scheduler.CfnSchedule(self, "Schedule", schedule_expression=schedule, flexible_time_window={"mode": "OFF"},
                                  target=scheduler.CfnSchedule.TargetProperty(arn=self.project.project_arn,
                                                                              role_arn=schedule_role.role_arn),
                                  description="compliant-bedrock verify, at least weekly (KSI-MLA-EVC)")
        else:
            schedule_role = iam.Role(self, "ScheduleRole", assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}),
                managed_policies=[start])
            events.Rule(self, "Schedule", schedule=events.Schedule.expression(schedule),
                        description="compliant-bedrock verify, at least weekly (KSI-MLA-EVC)",
                        targets=[targets.CodeBuildProject(self.project, event_role=schedule_role.without_policy_updates())])
        failed = events.Rule(self, "Failed", description="A verification found a contradiction or could not verify",
                             event_pattern=events.EventPattern(
                                 source=["aws.codebuild"], detail_type=["CodeBuild Build State Change"],
                                 detail={"project-name": [self.project.project_name],
                                         "build-status": ["FAILED", "STOPPED", "FAULT", "TIMED_OUT"]}))
        if alert_emails:
            self.topic = sns.Topic(self, "Alerts", master_key=key, enforce_ssl=True)
            for address in alert_emails:
                self.topic.add_subscription(subscriptions.EmailSubscription(address))
            key.grant_encrypt_decrypt(iam.ServicePrincipal("events.amazonaws.com"))
            failed.add_target(targets.SnsTopic(self.topic))
        for index, bus in enumerate(alert_event_bus_arns):
            role = iam.Role(self, f"Bus{index}Role", assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
                            managed_policies=[iam.ManagedPolicy(self, f"Bus{index}Policy", statements=[
                                iam.PolicyStatement(sid="PutAlertsOnTheSecurityBus", actions=["events:PutEvents"],
                                                    resources=[bus])])])
            failed.add_target(targets.EventBus(events.EventBus.from_event_bus_arn(self, f"Bus{index}", bus),
                                               role=role.without_policy_updates()))


def _partition(stack: Stack) -> str | None:
    """The stack's partition when its region is concrete (aws-cdk-lib's region facts); None: env-agnostic."""
    from aws_cdk import Token
    from aws_cdk.region_info import Fact, FactName

    if Token.is_unresolved(stack.region):
        return None
    return Fact.find(stack.region, FactName.PARTITION)


def _check(environments: Sequence[str], read_role_arns: Sequence[str], schedule: str, alert_emails: Sequence[str],
           alert_event_bus_arns: Sequence[str], project_role_name: str | None = None) -> None:
    problems = []
    if project_role_name is not None and not re.fullmatch(r"[A-Za-z0-9+=,.@_-]{1,64}", project_role_name):
        problems.append(f"project_role_name {project_role_name!r}: an IAM role name (1-64 of A-Za-z0-9+=,.@_-); the "
                        "read-only roles trust its exact ARN")
    if not environments or any(not _ENV_NAME.fullmatch(e) for e in environments):
        problems.append(f"environments {list(environments)!r}: name at least one environment (config/<name>.yaml)")
    bad = [a for a in read_role_arns if not _ROLE_ARN.fullmatch(a)]
    if not read_role_arns or bad:
        problems.append(f"read_role_arns {bad or []!r}: give each member account's read-only role as an exact role ARN")
    if not _WEEKLY.fullmatch(schedule):
        problems.append(f"schedule {schedule!r}: at least weekly, e.g. rate(7 days) or cron(0 6 ? * MON *)")
    if not alert_emails and not alert_event_bus_arns:
        problems.append("alert_emails / alert_event_bus_arns: a failed verification must reach somebody; give one")
    if problems:
        raise ConstructPropsError("ScheduledVerification: " + "; ".join(problems))


class VerifierReadRole(Construct):
    """The read-only role ``make verify`` assumes in a member account (``verify.role_arn`` of its environment).

    :param trusted_role_arn: the only principal that may assume it: ``ScheduledVerification``'s project role in the
        security account (``.role.role_arn``), or a person's role; an exact role ARN.
    :param role_name: the role's name, as ``verify.role_arn`` names it.
    :param organization: also read the organization's policies (in the management account or a delegated
        administrator only).
    """

    def __init__(self, scope: Construct, construct_id: str, *, trusted_role_arn: str,
                 role_name: str = "compliant-bedrock-verify", organization: bool = False) -> None:
        super().__init__(scope, construct_id)
        if not _ROLE_ARN.fullmatch(trusted_role_arn):
            raise ConstructPropsError(f"VerifierReadRole {construct_id!r}: trusted_role_arn {trusted_role_arn!r}: "
                                      "give the exact ARN of the role that runs the verifier")
        actions = [*VERIFY_READ_ACTIONS, *(VERIFY_ORGANIZATION_ACTIONS if organization else ())]
        policy = iam.ManagedPolicy(self, "Policy", description="compliant-bedrock verify: read-only", statements=[
            iam.PolicyStatement(sid="ReadTheDeployedState", actions=actions, resources=["*"])])
        suppress(policy, "AwsSolutions-IAM5", applies_to=["Resource::*"],
                 reason="Read-only Describe, Get and List calls on every stack resource the verifier compares; their "
                        "physical names are chosen by CloudFormation at deployment, so no narrower resource exists.")
        # The trusting account's root with aws:PrincipalArn (a global key STS receives on every AssumeRole), not the
        # role ARN as principal: IAM refuses a trust policy naming a role that does not exist yet (the member account
        # may deploy before the security account) and pins a named role to its unique id, so re-creating the project
        # role would silently break every member's trust.
        account = trusted_role_arn.split(":")[4]
        principal = iam.AccountPrincipal(account).with_conditions({"ArnEquals": {"aws:PrincipalArn": trusted_role_arn}})
        self.role = iam.Role(self, "Role", role_name=role_name, assumed_by=principal,
                             managed_policies=[policy], max_session_duration=Duration.hours(2),
                             description="Assumed by compliant-bedrock verify to read this account, read-only")
