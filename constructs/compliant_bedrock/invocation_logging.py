"""Bedrock model invocation logging (AU-2, AU-3, AU-12) to an immutable bucket and an encrypted log group.

There is no CloudFormation resource for it: the configuration is a per-account, per-region singleton
set with ``PutModelInvocationLoggingConfiguration``. ``ModelInvocationLogging`` provisions it with a
Lambda-backed custom resource of its own instead of ``custom_resources.Provider`` or
``AwsCustomResource``: those bring framework Lambdas, inline policies and the log-retention helper,
which the NIST rule pack rejects. The function here is a plain ``aws_lambda.Function`` that answers
CloudFormation itself (an HTTPS PUT to the pre-signed S3 response URL), with a managed policy, its
own encrypted log group, reserved concurrency, and an encrypted dead-letter queue (CloudFormation
invokes custom-resource functions asynchronously, so failed invocations land there).

It records ``bedrock-runtime`` calls only (InvokeModel, Converse and their streaming forms);
``bedrock-mantle`` calls are not captured by this service.

**Delete.** By default (``retain_on_delete=True``) the configuration outlives the stack: the custom
resource is retained, CloudFormation never sends it a Delete, and the function refuses to delete even
if handed one. Deleting the stack must not switch the account's invocation logging off (AU-9, AU-12).
Everything delivery needs is retained with it (bucket, bucket policy, key, log group, delivery role
and its policy), so records keep arriving after the stack is gone; removing the configuration is then
a deliberate act of the break-glass role, which ``TamperDetection`` reports. With ``retain_on_delete=False`` the function turns logging off on delete, but only if the
configuration still delivers to this construct's bucket or log group (another owner's configuration is left alone).

**Confused deputy.** Anyone allowed ``lambda:InvokeFunction`` on the function can hand it an event.
The function therefore takes the configuration, the take-over and the on-delete choice from its own
environment, never from the event; whether the account's configuration is its own it decides from what the
account has (``GetModelInvocationLoggingConfiguration``: does it deliver to this construct's bucket or log
group, as the environment names them), never from the event's ``ResourceProperties`` or
``OldResourceProperties``. It serves only requests whose ``StackId`` is its own stack's and
whose ``ResponseURL`` is a CloudFormation pre-signed S3 URL (``cloudformation-custom-resource-response-*``
in the partition's domain); anything else gets no action and no answer. A forged event can therefore
at most re-apply this stack's own configuration (or, with ``retain_on_delete=False``, turn it off):
deny ``lambda:InvokeFunction`` on it to everyone but CloudFormation's role by SCP where that matters.

**Network.** Without ``vpc`` the function runs in the Lambda service network (it calls only the
Bedrock control plane and the CloudFormation response URL); ``LambdaInsideVPC`` is then suppressed on
this function alone. With ``vpc``, the subnets need the ``bedrock`` interface endpoint (or NAT) and
an S3 gateway endpoint (or NAT) for the response URL.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .audit_bucket import DEFAULT_ARCHIVE_AFTER_DAYS, DEFAULT_OBJECT_LOCK_DAYS, AuditBucket, ObjectLockMode
from .compliance import suppress
from .errors import ConstructPropsError
from .grants import grant_records_read
from .kms import AuditAdmins, allow_cloudwatch_logs, protect_audit_key, retained_key, tag_audit
from .log_groups import encrypted_log_group

RESOURCE_TYPE = "Custom::BedrockModelInvocationLogging"
#: Key prefix of invocation logs in the bucket; large payloads go under ``<prefix>/large-data``.
KEY_PREFIX = "bedrock/invocation-logs"
#: The log stream Bedrock writes to in the log group (Bedrock user guide, model invocation logging).
LOG_STREAM = "aws/bedrock/modelinvocations"
# CloudFormation's inline ZipFile is limited to 4096 characters: keep this compact.
# The handler acts only on what its own environment says (LOGGING_CONFIG, STACK_ID, URL_SUFFIX, TAKE_OVER,
# ON_DELETE) and what the account has: anyone allowed lambda:InvokeFunction can hand it an event, so the event
# chooses nothing, not even whose configuration the account's is (its (Old)ResourceProperties are never read).
HANDLER_SOURCE = '''\
import json, os, time, urllib.parse, urllib.request
import boto3
from botocore.exceptions import ClientError

ENV = os.environ


def send(event, context, status, reason):
    body = json.dumps({
        "Status": status, "Reason": (reason or "see " + context.log_stream_name)[:500],
        "PhysicalResourceId": event.get("PhysicalResourceId") or "bedrock-model-invocation-logging",
        "StackId": event["StackId"], "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"], "Data": {}}).encode()
    req = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                 headers={"Content-Type": "", "Content-Length": str(len(body))})
    urllib.request.urlopen(req, timeout=30).read()


def genuine(event):
    # CloudFormation's request for this function's own stack, answered at a CloudFormation pre-signed URL.
    url = urllib.parse.urlsplit(str(event.get("ResponseURL")))
    host = url.hostname or ""
    return (event.get("StackId") == ENV["STACK_ID"] and url.scheme == "https"
            and host.startswith("cloudformation-custom-resource-response-")
            and host.endswith("." + ENV["URL_SUFFIX"]))


def dests(config):
    # Where a configuration delivers: its bucket and its log group.
    return {d for d in (("s3", (config.get("s3Config") or {}).get("bucketName")),
                        ("logs", (config.get("cloudWatchConfig") or {}).get("logGroupName"))) if d[1]}


def handler(event, context):
    print(json.dumps({k: event.get(k) for k in ("RequestType", "LogicalResourceId", "StackId")}))
    if not genuine(event):
        print("refused: not CloudFormation's request for stack", ENV["STACK_ID"])
        return
    try:
        bedrock = boto3.client("bedrock")
        config = json.loads(ENV["LOGGING_CONFIG"])
        current = bedrock.get_model_invocation_logging_configuration().get("loggingConfig") or {}
        # Ours: what the account has delivers to this stack's bucket or log group (its environment's), never
        # what the event says: a forged event must not make another owner's configuration ours.
        ours = bool(dests(current) & dests(config))
        if event["RequestType"] == "Delete":
            if ours and ENV["ON_DELETE"] == "delete":
                bedrock.delete_model_invocation_logging_configuration()
            print("deleted" if ours and ENV["ON_DELETE"] == "delete" else "left in place")
        else:
            if current and not ours and ENV["TAKE_OVER"] != "true":
                where = ", ".join(sorted(d[1] for d in dests(current))) or "no destination"
                raise RuntimeError("the account already logs Bedrock invocations (to %s); refusing to replace "
                                   "another owner's audit configuration: set take_over_existing" % where)
            for attempt in range(6):
                try:
                    bedrock.put_model_invocation_logging_configuration(loggingConfig=config)
                    break
                except ClientError as error:
                    # A new role or bucket policy can take a while to propagate.
                    if error.response["Error"]["Code"] != "ValidationException" or attempt == 5:
                        raise
                    print("retrying:", error)
                    time.sleep(10 * (attempt + 1))
        send(event, context, "SUCCESS", "")
    except Exception as error:
        print("failed:", repr(error))
        send(event, context, "FAILED", str(error))
'''


class ModelInvocationLogging(Construct):
    """Bedrock model invocation logging to an ``AuditBucket`` and an encrypted CloudWatch log group.

    :param log_retention_days: retention of the invocation log group and the function's log group.
    :param text_data_delivery: log prompt and completion text (default on: AU-3 content of records).
    :param image_data_delivery: log image payloads (default off).
    :param embedding_data_delivery: log embeddings (default off).
    :param object_lock_mode, object_lock_days, archive_after_days: see ``AuditBucket``.
    :param replication_destination_bucket_arn, replication_destination_key_arn, replication_role_name: see
        ``AuditBucket``.
    :param vpc: place the function in this VPC (with ``subnets`` and ``security_group``).
    :param subnets: subnets of ``vpc`` for the function (default: CDK's choice of private subnets).
    :param security_group: the function's security group (default: a new one, egress only).
    :param retain_on_delete: (default on) keep the account's logging configuration, and the grants its
        deliveries need, when the stack is deleted; off, the function turns logging off on delete.
    :param take_over_existing: replace a configuration the account already has that logs elsewhere.
        Default false: creation or an update fails rather than silently cutting another owner's audit
        records off, unless the configuration still delivers to this construct's bucket or log group (so
        an update that replaces the bucket but keeps the log group moves it; one that replaces both needs
        this).
    :param audit_admins: the break-glass and deploy roles, the only principals the key and bucket policies let
        disable, delete or re-police the key and change the bucket (``protect_audit_key``, ``AuditBucket``);
        ``None`` leaves them to IAM. Only ``bedrock.amazonaws.com`` may write records to the bucket.
    :param reserved_concurrency: reserve this many executions for the function. Default none: an
        account must keep 100 unreserved (10 in new accounts), so reserving can fail the deploy.

    Attributes: ``key``, ``bucket`` (``AuditBucket``), ``log_group``, ``delivery_role``,
    ``delivery_policy``, ``handler`` (``lambda.Function``), ``handler_role``, ``handler_policy``,
    ``handler_log_group``, ``dead_letter_queue``, ``configuration`` (``CustomResource``),
    ``logging_config`` (the ``loggingConfig`` document sent to Bedrock).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_retention_days: int = 365,
        text_data_delivery: bool = True,
        image_data_delivery: bool = False,
        embedding_data_delivery: bool = False,
        object_lock_mode: ObjectLockMode = "COMPLIANCE",
        object_lock_days: int = DEFAULT_OBJECT_LOCK_DAYS,
        archive_after_days: int = DEFAULT_ARCHIVE_AFTER_DAYS,
        replication_destination_bucket_arn: str | None = None,
        replication_destination_key_arn: str | None = None,
        replication_role_name: str | None = None,
        vpc: ec2.IVpc | None = None,
        subnets: ec2.SubnetSelection | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        retain_on_delete: bool = True,
        take_over_existing: bool = False,
        reserved_concurrency: int | None = None,
        audit_admins: AuditAdmins | None = AuditAdmins(),  # noqa: B008 (frozen, immutable)
    ) -> None:
        super().__init__(scope, construct_id)
        if vpc is None and (subnets is not None or security_group is not None):
            raise ConstructPropsError(f"ModelInvocationLogging {construct_id!r}: subnets and security_group need a vpc")
        stack = Stack.of(self)
        bedrock_source = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": stack.format_arn(service="bedrock", resource="*")},
        }

        self.key = retained_key(self, "Key", description="Bedrock model invocation logs: bucket, log groups, DLQ")
        allow_cloudwatch_logs(self.key, self)
        if audit_admins is not None:
            protect_audit_key(self.key, audit_admins)
        # S3 asks KMS for the (bucket) data key on behalf of the writer, Bedrock.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowBedrockInvocationLogDelivery",
                principals=[iam.ServicePrincipal("bedrock.amazonaws.com")],
                actions=["kms:GenerateDataKey"],
                resources=["*"],
                conditions=bedrock_source,
            )
        )

        self.bucket = AuditBucket(
            self, "Bucket", key=self.key, object_lock_mode=object_lock_mode, object_lock_days=object_lock_days,
            archive_after_days=archive_after_days,
            replication_destination_bucket_arn=replication_destination_bucket_arn,
            replication_destination_key_arn=replication_destination_key_arn,
            replication_role_name=replication_role_name, audit_admins=audit_admins,
            delivering_services=["bedrock.amazonaws.com"],
        )
        self.bucket.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AmazonBedrockLogsWrite",
                principals=[iam.ServicePrincipal("bedrock.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[self.bucket.bucket.arn_for_objects(f"{KEY_PREFIX}/*")],
                conditions=bedrock_source,
            )
        )

        self.log_group = encrypted_log_group(self, "LogGroup", key=self.key, retention_days=log_retention_days)
        tag_audit(self.log_group)
        self.delivery_policy = iam.ManagedPolicy(
            self,
            "DeliveryPolicy",
            description="Lets Bedrock write model invocation logs to its one log stream, and nothing else.",
            statements=[
                iam.PolicyStatement(
                    sid="DeliverInvocationLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[stack.format_arn(
                        service="logs", resource="log-group",
                        resource_name=f"{self.log_group.log_group_name}:log-stream:{LOG_STREAM}",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )],
                )
            ],
        )
        self.delivery_role = iam.Role(
            self,
            "DeliveryRole",
            assumed_by=iam.ServicePrincipal("bedrock.amazonaws.com", conditions=bedrock_source),
            managed_policies=[self.delivery_policy],
            description="Bedrock model invocation logging to CloudWatch Logs",
        )

        bucket_name = self.bucket.bucket_name
        self.logging_config = {
            "cloudWatchConfig": {
                "logGroupName": self.log_group.log_group_name,
                "roleArn": self.delivery_role.role_arn,
                "largeDataDeliveryS3Config": {"bucketName": bucket_name, "keyPrefix": f"{KEY_PREFIX}/large-data"},
            },
            "s3Config": {"bucketName": bucket_name, "keyPrefix": KEY_PREFIX},
            "textDataDeliveryEnabled": text_data_delivery,
            "imageDataDeliveryEnabled": image_data_delivery,
            "embeddingDataDeliveryEnabled": embedding_data_delivery,
        }

        #: What the function acts on: its own environment, never the event (confused deputy, F3).
        self.handler_environment = {
            "LOGGING_CONFIG": stack.to_json_string(self.logging_config),
            "STACK_ID": stack.stack_id,
            "URL_SUFFIX": stack.url_suffix,
            "TAKE_OVER": "true" if take_over_existing else "false",
            "ON_DELETE": "retain" if retain_on_delete else "delete",
        }
        self._handler(stack, log_retention_days, vpc, subnets, security_group, reserved_concurrency)
        self.configuration = CustomResource(
            self,
            "Configuration",
            service_token=self.handler.function_arn,
            resource_type=RESOURCE_TYPE,
            # The handler ignores these (it reads its environment and the account's configuration); they make
            # CloudFormation send an Update when the configuration changes.
            properties={"LoggingConfig": self.logging_config, "TakeOver": "true" if take_over_existing else "false"},
            service_timeout=Duration.minutes(10),
            removal_policy=RemovalPolicy.RETAIN if retain_on_delete else RemovalPolicy.DESTROY,
        )
        if retain_on_delete:
            # A retained configuration must keep delivering after the stack is gone.
            for resource in (self.delivery_role, self.delivery_policy):
                resource.apply_removal_policy(RemovalPolicy.RETAIN)
        # Bedrock validates the destinations on Put: every grant must exist first.
        self.configuration.node.add_dependency(self.bucket.bucket.policy, self.delivery_policy, self.handler_policy)

    def grant_read(self, grantee: iam.IGrantable) -> iam.ManagedPolicy:
        """Read the invocation logging's records (auditors, a SIEM): the audit bucket's objects (decrypted through S3)
        and the log group's events, in one managed policy of this construct attached to the grantee's
        role, user or group. Nothing in it writes, deletes or changes retention."""
        return grant_records_read(self, grantee, self.bucket, self.log_group, "invocation logging")

    def _handler(self, stack: Stack, retention_days: int, vpc: ec2.IVpc | None,
                 subnets: ec2.SubnetSelection | None, security_group: ec2.ISecurityGroup | None,
                 reserved_concurrency: int | None) -> None:
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        # No AwsSolutions-SQS3 suppression: the rule accepts a queue that is a dead-letter target.
        self.handler_log_group = encrypted_log_group(self, "HandlerLogGroup", key=self.key,
                                                     retention_days=retention_days)
        statements = [
            iam.PolicyStatement(
                sid="ConfigureModelInvocationLogging",
                actions=["bedrock:PutModelInvocationLoggingConfiguration",
                         "bedrock:GetModelInvocationLoggingConfiguration",
                         "bedrock:DeleteModelInvocationLoggingConfiguration"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="PassDeliveryRoleToBedrock",
                actions=["iam:PassRole"],
                resources=[self.delivery_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.handler_log_group.log_group_arn],
            ),
            iam.PolicyStatement(
                sid="SendToDeadLetterQueue",
                actions=["sqs:SendMessage"],
                resources=[self.dead_letter_queue.queue_arn],
            ),
            iam.PolicyStatement(
                sid="EncryptDeadLetters",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[self.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"sqs.{stack.region}.{stack.url_suffix}"}},
            ),
        ]
        wildcard_reason = ("Bedrock's Put/Get/DeleteModelInvocationLoggingConfiguration act on the account's "
                           "one configuration and support no resource-level permissions, so IAM requires "
                           "Resource '*'.")
        if vpc is not None:
            statements.append(
                iam.PolicyStatement(
                    sid="ManageVpcNetworkInterfaces",
                    actions=["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
                             "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                             "ec2:UnassignPrivateIpAddresses"],
                    resources=["*"],
                )
            )
            wildcard_reason += (" Lambda's VPC network-interface actions are requested for interfaces that do "
                                "not exist yet, which AWS documents with Resource '*' as well.")
        self.handler_policy = iam.ManagedPolicy(
            self, "HandlerPolicy",
            description="Lets the invocation-logging function set the account's Bedrock logging configuration.",
            statements=statements,
        )
        suppress(self.handler_policy, "AwsSolutions-IAM5", wildcard_reason, applies_to=["Resource::*"])
        self.handler_role = iam.Role(
            self,
            "HandlerRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            managed_policies=[self.handler_policy],
            description="Bedrock model invocation logging custom resource",
        )
        # Immutable: Function must not add its own inline grants (DLQ, VPC) to the role (IAMNoInlinePolicy).
        role_ref = iam.Role.from_role_arn(self, "HandlerRoleRef", self.handler_role.role_arn, mutable=False)
        self.handler = lambda_.Function(
            self,
            "Handler",
            description="Sets (and on delete clears) the account's Bedrock model invocation logging configuration",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline(HANDLER_SOURCE),
            environment=self.handler_environment,
            role=role_ref,
            timeout=Duration.minutes(5),
            memory_size=256,
            reserved_concurrent_executions=reserved_concurrency,
            retry_attempts=2,
            dead_letter_queue=self.dead_letter_queue,
            log_group=self.handler_log_group,
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[security_group] if security_group is not None else None,
        )
        # The role's policy is a separate resource: the function must not run before it is attached.
        self.handler.node.add_dependency(self.handler_policy)
        suppress(self.handler, "AwsSolutions-L1",
                 "python3.13 is a supported Lambda runtime available in every partition this library targets, "
                 "and its bundled boto3 has the model invocation logging API; the handler uses nothing else, "
                 "so the runtime is pinned rather than moved to the newest release before it reaches all regions.")
        if reserved_concurrency is None:
            suppress(self.handler, "NIST.800.53.R5-LambdaConcurrency",
                     "The function runs only when CloudFormation creates, updates or deletes this stack, one "
                     "event at a time, so it cannot exhaust account concurrency; reserving executions instead "
                     "fails deployment in accounts whose unreserved concurrency is at its minimum.")
        if vpc is None:
            suppress(self.handler, "NIST.800.53.R5-LambdaInsideVPC",
                     "This deploy-time function runs outside a VPC by choice: it holds no data, has no inbound "
                     "path, runs only on stack create/update/delete, and only calls the Bedrock control plane and "
                     "the CloudFormation response URL (S3) over TLS with IAM-signed, least-privilege permissions. "
                     "An isolated VPC would need bedrock and S3 endpoints for it; pass vpc= where they exist.")
