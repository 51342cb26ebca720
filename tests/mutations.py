"""Ways to remove one protection from a reference stack, each with the rules that must then fire.

Mutations are applied after the stack is built (escape hatches), exactly as a careless edit
would, so the tests prove the gate notices, not that the constructs refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_cdk import CfnResource, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam

from compliant_bedrock.private_link import BedrockService
from infra.stack import ReferenceStack


@dataclass(frozen=True)
class Mutation:
    apply: Callable[[ReferenceStack], None]
    #: Rule ids of which at least these must fire (cdk-nag or Bedrock pack).
    expect: tuple[str, ...]
    #: The shipped environment the mutant is built from.
    env: str = "commercial"


def _statement_index(stack: ReferenceStack, sid: str) -> int:
    statements = stack.resolve(stack.model_access.policy.document.to_json())["Statement"]
    return next(i for i, s in enumerate(statements) if s.get("Sid") == sid)


def _drop_mantle_selectors(stack: ReferenceStack) -> None:
    selectors = stack.resolve(stack.audit_trail.trail.advanced_event_selectors)
    kept = [s for s in selectors if not any("BedrockMantle" in str(f) for f in s["fieldSelectors"])]
    stack.audit_trail.trail.add_property_override("AdvancedEventSelectors", [
        {"Name": s.get("name"), "FieldSelectors": [
            {"Field": f["field"], **({"Equals": f["equalTo"]} if "equalTo" in f else {"StartsWith": f["startsWith"]})}
            for f in s["fieldSelectors"]]} for s in kept])


def _cfn(construct) -> CfnResource:
    return construct.node.default_child


def _runtime_endpoint(stack: ReferenceStack) -> CfnResource:
    return _cfn(stack.private_link.runtime_endpoint)


MUTATIONS: dict[str, Mutation] = {
    "endpoint-private-dns-off": Mutation(
        lambda s: _runtime_endpoint(s).add_property_override("PrivateDnsEnabled", False),
        ("Bedrock-EndpointPrivateDns",),
    ),
    "endpoint-policy-removed": Mutation(
        lambda s: _runtime_endpoint(s).add_property_deletion_override("PolicyDocument"),
        ("Bedrock-EndpointPolicyNotDefault", "Bedrock-RuntimeEndpointPolicyNamesModels"),
    ),
    "endpoint-sg-opened": Mutation(
        lambda s: s.private_link.security_group.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443)),
        ("Bedrock-EndpointSecurityGroupRestricted",),
    ),
    # cdk-nag reads L1 properties, not raw overrides: mutate through the L1 where cdk-nag must see it.
    "log-key-rotation-off": Mutation(
        lambda s: setattr(_cfn(s.log_key), "enable_key_rotation", False),
        ("NIST.800.53.R5-KMSBackingKeyRotationEnabled",),
    ),
    "flow-log-group-unencrypted": Mutation(
        lambda s: setattr(_cfn(s.node.find_child("Network").flow_log_group), "kms_key_id", None),
        ("NIST.800.53.R5-CloudWatchLogGroupEncrypted", "Bedrock-LogGroupEncryptedRetained"),
    ),
    "log-group-deleted-on-destroy": Mutation(
        lambda s: s.node.find_child("Network").flow_log_group.apply_removal_policy(RemovalPolicy.DESTROY),
        ("Bedrock-AuditDataRetainedOnDelete",),
    ),
    "trail-log-validation-off": Mutation(
        lambda s: setattr(s.audit_trail.trail, "enable_log_file_validation", False),
        ("NIST.800.53.R5-CloudTrailLogFileValidationEnabled", "Bedrock-TrailMultiRegionValidated"),
    ),
    "trail-single-region": Mutation(
        lambda s: setattr(s.audit_trail.trail, "is_multi_region_trail", False),
        ("Bedrock-TrailMultiRegionValidated",),
    ),
    "trail-without-bedrock-data-events": Mutation(
        lambda s: s.audit_trail.trail.add_property_override(
            "AdvancedEventSelectors", [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]
        ),
        ("Bedrock-TrailBedrockDataEvents",),
    ),
    "trail-unencrypted": Mutation(
        lambda s: setattr(s.audit_trail.trail, "kms_key_id", None),
        ("NIST.800.53.R5-CloudTrailEncryptionEnabled",),
    ),
    "audit-bucket-object-lock-off": Mutation(
        lambda s: _cfn(s.audit_trail.bucket.bucket).add_property_deletion_override("ObjectLockConfiguration"),
        ("Bedrock-AuditBucketObjectLock",),
    ),
    "audit-bucket-deleted-on-destroy": Mutation(
        lambda s: s.invocation_logging.bucket.bucket.apply_removal_policy(RemovalPolicy.DESTROY),
        ("Bedrock-AuditDataRetainedOnDelete",),
    ),
    "guardrail-prompt-attack-off": Mutation(
        lambda s: s.guardrail.guardrail.add_property_override(
            "ContentPolicyConfig.FiltersConfig",
            [{"Type": "HATE", "InputStrength": "HIGH", "OutputStrength": "HIGH"}],
        ),
        ("Bedrock-GuardrailPromptAttackHigh",),
    ),
    "guardrail-pii-off": Mutation(
        lambda s: s.guardrail.guardrail.add_property_deletion_override("SensitiveInformationPolicyConfig"),
        ("Bedrock-GuardrailPiiFilters",),
    ),
    "guardrail-unencrypted": Mutation(
        lambda s: s.guardrail.guardrail.add_property_deletion_override("KmsKeyArn"),
        ("Bedrock-GuardrailCmkEncrypted",),
    ),
    "invoke-without-guardrail-condition": Mutation(
        lambda s: _cfn(s.model_access.policy).add_property_deletion_override(
            "PolicyDocument.Statement.0.Condition.StringEquals.bedrock:GuardrailIdentifier"
        ),
        ("Bedrock-InvokeRequiresGuardrail",),
    ),
    "invoke-on-any-model": Mutation(
        lambda s: s.model_access.policy.add_statements(
            iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=["*"])
        ),
        ("Bedrock-InvokeScopedToModels", "Bedrock-InvokeRequiresGuardrail", "Bedrock-InvokeRequiresVpcEndpoint"),
    ),
    "guardrail-enforcement-removed": Mutation(
        lambda s: s.guardrail.node.try_remove_child("AccountEnforcement"),
        ("Bedrock-GuardrailEnforcedAccountLevel",),
    ),
    "trail-deleted-with-stack": Mutation(
        lambda s: s.audit_trail.trail.apply_removal_policy(RemovalPolicy.DESTROY),
        ("Bedrock-AuditControlPlaneRetained",),
    ),
    "audit-key-policy-default": Mutation(
        lambda s: _cfn(s.audit_trail.key).add_property_override("KeyPolicy.Statement", [{
            "Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
            "Action": "kms:*", "Resource": "*"}]),
        ("Bedrock-AuditKeyDeletionProtected",),
    ),
    "tamper-detection-removed": Mutation(
        lambda s: s.node.try_remove_child("TamperDetection"),
        ("Bedrock-AuditTamperDetected",),
    ),
    # Unguarded paths and the Mantle perimeter (frontier work).
    "mantle-grant-by-hand": Mutation(
        lambda s: s.model_access.policy.add_statements(
            iam.PolicyStatement(actions=["bedrock-mantle:CreateInference"], resources=["*"])
        ),
        # (the commercial trail records Mantle data events already: Bedrock-TrailMantleDataEvents holds)
        ("Bedrock-UnguardedInferencePath", "Bedrock-MantleInferenceScoped"),
    ),
    "openai-api-on-the-default-project": Mutation(
        lambda s: s.model_access.policy.add_statements(iam.PolicyStatement(
            actions=["bedrock:InvokeModel"], resources=[s.format_arn(service="bedrock", resource="project",
                                                                     resource_name="default")])),
        ("Bedrock-UnguardedInferencePath",),
    ),
    "control-plane-endpoint-any-action": Mutation(
        lambda s: _cfn(s.private_link.endpoints[BedrockService.CONTROL_PLANE]).add_property_override(
            "PolicyDocument.Statement.0.Action", "bedrock:*"),
        ("Bedrock-EndpointPolicyNamesActions",),
    ),
    "frontier-acceptance-removed": Mutation(
        lambda s: _cfn(s.model_access.policy).add_metadata("cdk_nag", {"rules_to_suppress": []}),
        ("Bedrock-UnguardedInferencePath",), env="frontier",
    ),
    "frontier-mantle-model-condition-removed": Mutation(
        lambda s: _cfn(s.model_access.policy).add_property_deletion_override(
            f"PolicyDocument.Statement.{_statement_index(s, 'AllowUnguardedMantleInference')}.Condition.StringEquals."
            "bedrock-mantle:Model"),
        ("Bedrock-MantleInferenceScoped",), env="frontier",
    ),
    "frontier-trail-without-mantle-data-events": Mutation(
        _drop_mantle_selectors, ("Bedrock-TrailMantleDataEvents", "Bedrock-TrailDataEventCoverage"), env="frontier",
    ),
    "govcloud-trail-without-mantle-data-events": Mutation(
        _drop_mantle_selectors, ("Bedrock-TrailDataEventCoverage",), env="govcloud",
    ),
    "trail-without-prompt-object-events": Mutation(
        lambda s: s.audit_trail.trail.add_property_deletion_override(
            f"AdvancedEventSelectors.{len(s.resolve(s.audit_trail.trail.advanced_event_selectors)) - 1}"),
        ("Bedrock-TrailDataEventCoverage",),
    ),
    "frontier-mantle-endpoint-any-action": Mutation(
        lambda s: _cfn(s.private_link.endpoints[BedrockService.MANTLE]).add_property_override(
            "PolicyDocument.Statement", [{"Effect": "Allow", "Principal": "*", "Action": "bedrock-mantle:*",
                                          "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalAccount": "1"}}}]),
        ("Bedrock-EndpointPolicyNamesActions",), env="frontier",
    ),
    "invocation-logging-removed": Mutation(
        lambda s: s.node.try_remove_child("InvocationLogging"),
        ("Bedrock-InvocationLoggingConfigured",),
    ),
}
