"""Every rule of the Bedrock pack: a compliant and a non-compliant case, on small templates (no synth)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from compliant_bedrock.compliance import RULES, Compliance, RuleContext, evaluate
from compliant_bedrock.compliance.rules.audit import TRAIL_COVERAGE_METADATA, data_event_gaps, template_partition
from compliant_bedrock.compliance.rules.organization import AUDIT_PLANE_ACTIONS
from compliant_bedrock.compliance.template import Template

MODEL = "arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/openai.gpt-oss-120b-1:0"
GUARDRAIL_VERSIONED = {"Fn::Join": ["", [{"Fn::GetAtt": ["G", "GuardrailArn"]}, ":", {"Fn::GetAtt": ["GV", "Version"]}]]}

INVOKE_STATEMENT = {
    "Sid": "AllowInvokeOfNamedModels",
    "Effect": "Allow",
    "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
    "Resource": MODEL,
    "Condition": {"StringEquals": {"bedrock:GuardrailIdentifier": GUARDRAIL_VERSIONED, "aws:SourceVpce": {"Ref": "EP"}}},
}


def _scp(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, separators=(",", ":"))


#: An exact exemption (literal account, exact name): a pattern or '*' account is one anyone can obtain (N1).
BREAK_GLASS = "arn:aws:iam::111122223333:role/compliant-bedrock-break-glass"
EXEMPT = {"ArnNotEquals": {"aws:PrincipalArn": [BREAK_GLASS]}}
#: Every audit-plane action the rule requires denied (the rule's own list: this template is its compliant case).
AUDIT_ACTIONS = list(AUDIT_PLANE_ACTIONS)
INFERENCE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream", "bedrock-mantle:CreateInference"]
ORG_STATEMENTS = {
    "keys": {"Sid": "K", "Effect": "Deny", "Action": ["bedrock:CallWithBearerToken", "bedrock-mantle:CallWithBearerToken"],
             "Resource": "*"},
    "creation": {"Sid": "C", "Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*",
                 "Condition": {"StringEquals": {"iam:ServiceSpecificCredentialServiceName": "bedrock.amazonaws.com"}}},
    "endpoint": {"Sid": "E", "Effect": "Deny", "Action": INFERENCE, "Resource": "*",
                 "Condition": {"StringNotEquals": {"aws:SourceVpce": ["vpce-0a1b2c3d4e5f60718"]},
                               "BoolIfExists": {"aws:ViaAWSService": "false"}}},
    "region": {"Sid": "R", "Effect": "Deny", "Action": ["bedrock:*", "bedrock-mantle:*"], "Resource": "*",
               "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]}}},
    "audit": {"Sid": "A", "Effect": "Deny", "Action": AUDIT_ACTIONS, "Resource": "*", "Condition": EXEMPT},
    "unguarded": {"Sid": "U", "Effect": "Deny", "Action": ["bedrock:CreateModelInvocationJob", "bedrock-mantle:*"],
                  "Resource": "*", "Condition": EXEMPT},
    # the exempt role cannot be created, re-trusted, given policies, passed or assumed by anyone else
    "protect": {"Sid": "P", "Effect": "Deny", "Action": ["iam:CreateRole", "iam:UpdateAssumeRolePolicy",
                                                         "iam:AttachRolePolicy", "iam:PutRolePolicy",
                                                         "iam:PutRolePermissionsBoundary", "iam:PassRole",
                                                         "sts:AssumeRole"],
                "Resource": ["arn:aws:iam::*:role/compliant-bedrock-break-glass"]},
}
RCP_STATEMENTS = [
    {"Sid": "O", "Effect": "Deny", "Principal": "*", "Action": ["s3:*", "kms:*"], "Resource": "*",
     "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abcdefghij"},
                   "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}},
    {"Sid": "T", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
     "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}}},
]
BEDROCK_POLICY = {"Fn::Join": ["", [
    '{"bedrock":{"guardrail_inference":{"us-east-1":{"config_1":{"identifier":{"@@assign":"',
    {"Fn::GetAtt": ["G", "GuardrailArn"]}, ":", {"Fn::GetAtt": ["GV", "Version"]},
    '"},"selective_content_guarding":{"system":{"@@assign":"comprehensive"},"messages":{"@@assign":"comprehensive"}}}}}}}',
]]}


def organization_resources() -> dict[str, Any]:
    """An organization stack's policies that every organization rule accepts."""
    return {
        "Scp": {"Type": "AWS::Organizations::Policy", "Properties": {
            "Name": "scp", "Type": "SERVICE_CONTROL_POLICY", "TargetIds": ["ou-abcd-abcdefgh"],
            "Content": _scp(*ORG_STATEMENTS.values())}},
        "Rcp": {"Type": "AWS::Organizations::Policy", "Properties": {
            "Name": "rcp", "Type": "RESOURCE_CONTROL_POLICY", "TargetIds": ["ou-abcd-abcdefgh"],
            "Content": _scp(*RCP_STATEMENTS)}},
        "OrgGuardrail": {"Type": "AWS::Organizations::Policy", "Properties": {
            "Name": "guardrail", "Type": "BEDROCK_POLICY", "TargetIds": ["ou-abcd-abcdefgh"], "Content": BEDROCK_POLICY}},
        "GuardrailPolicy": {"Type": "AWS::Bedrock::ResourcePolicy", "Properties": {
            "ResourceArn": {"Fn::GetAtt": ["G", "GuardrailArn"]},
            "PolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                              "Action": "bedrock:ApplyGuardrail", "Resource": "*",
                                              "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}}]}}},
    }


def without(*names: str, **replaced: dict[str, Any]) -> str:
    """The good SCP content without some statements, or with some replaced."""
    return _scp(*(replaced.get(k, v) for k, v in ORG_STATEMENTS.items() if k not in names))
ADMINS = ["arn:aws-us-gov:iam::111122223333:role/compliant-bedrock-break-glass",
          {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}"
                      "-${AWS::Region}"}]
KEY_TAMPER_DENY = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Resource": "*",
                   "Action": ["kms:DisableKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"],
                   "Condition": {"ArnNotEquals": {"aws:PrincipalArn": ADMINS}}}
KEY_WINDOW_DENY = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Resource": "*", "Action": "kms:ScheduleKeyDeletion",
                   "Condition": {"NumericLessThan": {"kms:ScheduleKeyDeletionPendingWindowInDays": "30"}}}
BUCKET_TAMPER_DENY = {"Effect": "Deny", "Principal": "*", "Resource": "*",
                      "Action": ["s3:PutBucketObjectLockConfiguration", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
                                 "s3:PutLifecycleConfiguration", "s3:PutReplicationConfiguration",
                                 "s3:BypassGovernanceRetention"],
                      "Condition": {"ArnNotEquals": {"aws:PrincipalArn": ADMINS}}}
FORGED_WRITE_DENY = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Resource": "*", "Action": "s3:PutObject",
                     "Condition": {"StringNotEquals": {"aws:PrincipalServiceName": "cloudtrail.amazonaws.com"}}}
RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
PROJECT = {"Fn::GetAtt": ["Project", "Arn"]}
MANTLE_STATEMENT = {
    "Sid": "AllowUnguardedMantleInference",
    "Effect": "Allow",
    "Action": "bedrock-mantle:CreateInference",
    "Resource": PROJECT,
    "Condition": {"StringEquals": {"bedrock-mantle:Model": ["openai.gpt-5.5"], "aws:SourceVpce": {"Ref": "EPM"}}},
}
#: The structured acceptance the registry requires for a risk-decision rule (``accept_risk`` writes both).
_ACCEPTANCE = {"rule_id": "Bedrock-UnguardedInferencePath", "what": "Unguarded path mantle",
               "reason": "The mission needs GPT-5.5, which only Mantle serves in this region today.",
               "compensating": "The application applies the guardrail itself and logs every prompt and answer.",
               "approved_by": "AO, risk acceptance RA-2026-017", "expires": "2099-06-30"}
ACCEPTED = (f"Unguarded path mantle accepted by {_ACCEPTANCE['approved_by']} until {_ACCEPTANCE['expires']}: "
            f"{_ACCEPTANCE['reason']} Compensating controls: {_ACCEPTANCE['compensating']}")


def good_template() -> dict[str, Any]:
    """A minimal stack that every rule accepts (its one Mantle grant risk-accepted, as an environment does)."""
    return {
        "Conditions": {"IamRegion": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-gov-west-1"]}},
        "Resources": {
            **organization_resources(),
            "Project": {"Type": "AWS::BedrockMantle::Project", "Properties": {"Name": "frontier-workloads"}},
            "EPM": {
                "Type": "AWS::EC2::VPCEndpoint",
                "Properties": {
                    "ServiceName": "com.amazonaws.us-gov-west-1.bedrock-mantle",
                    "PrivateDnsEnabled": True,
                    "SecurityGroupIds": [{"Fn::GetAtt": ["SG", "GroupId"]}],
                    "PolicyDocument": {"Statement": [{
                        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "bedrock-mantle:CreateInference",
                        "Resource": PROJECT,
                        "Condition": {"StringEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"},
                                                       "bedrock-mantle:Model": ["openai.gpt-5.5"]}},
                    }]},
                },
            },
            "MantlePolicy": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Metadata": {"cdk_nag": {"rules_to_suppress": [{"id": "Bedrock-UnguardedInferencePath",
                                                                "reason": ACCEPTED}]},
                             "compliant_bedrock:risk_acceptances": [_ACCEPTANCE]},
                "Properties": {"PolicyDocument": {"Statement": [MANTLE_STATEMENT]}},
            },
            "EP": {
                "Type": "AWS::EC2::VPCEndpoint",
                "Properties": {
                    "ServiceName": "com.amazonaws.us-gov-west-1.bedrock-runtime-fips",
                    "PrivateDnsEnabled": True,
                    "SecurityGroupIds": [{"Fn::GetAtt": ["SG", "GroupId"]}],
                    "PolicyDocument": {"Statement": [{
                        "Effect": "Allow", "Principal": {"AWS": "*"},
                        "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                        "Resource": MODEL,
                        "Condition": {"StringEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}},
                    }]},
                },
            },
            "SG": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {"SecurityGroupIngress": [
                    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.41.0.0/16"}]},
            },
            "Policy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {"Statement": [INVOKE_STATEMENT]}}},
            "G": {
                "Type": "AWS::Bedrock::Guardrail",
                "Properties": {
                    "KmsKeyArn": {"Fn::GetAtt": ["Key", "Arn"]},
                    "ContentPolicyConfig": {"FiltersConfig": [
                        {"Type": "PROMPT_ATTACK", "InputStrength": "HIGH", "OutputStrength": "NONE"}]},
                    "SensitiveInformationPolicyConfig": {"PiiEntitiesConfig": [
                        {"Type": "US_SOCIAL_SECURITY_NUMBER", "Action": "BLOCK"}]},
                },
            },
            "GV": {"Type": "AWS::Bedrock::GuardrailVersion", "Properties": {"GuardrailIdentifier": {"Ref": "G"}}},
            "Enforced": {"Type": "AWS::Bedrock::EnforcedGuardrailConfiguration", "Properties": {
                "GuardrailIdentifier": {"Fn::GetAtt": ["G", "GuardrailId"]},
                "GuardrailVersion": {"Fn::GetAtt": ["GV", "Version"]},
                "SelectiveContentGuarding": {"Messages": "COMPREHENSIVE", "System": "COMPREHENSIVE"}}},
            "Key": {"Type": "AWS::KMS::Key", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": {
                "Tags": [{"Key": "compliant-bedrock:audit", "Value": "true"}],
                "KeyPolicy": {"Statement": [copy.deepcopy(KEY_TAMPER_DENY), copy.deepcopy(KEY_WINDOW_DENY)]}}},
            "BucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
                "Bucket": {"Ref": "Bucket"},
                "PolicyDocument": {"Statement": [copy.deepcopy(BUCKET_TAMPER_DENY), copy.deepcopy(FORGED_WRITE_DENY)]}}},
            "Trail": {
                "Type": "AWS::CloudTrail::Trail", **RETAIN,
                "Properties": {
                    "IsMultiRegionTrail": True, "EnableLogFileValidation": True, "IsLogging": True,
                    "S3BucketName": {"Ref": "Bucket"},
                    "AdvancedEventSelectors": [
                        {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
                        {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                            {"Field": "resources.type", "Equals": ["AWS::Bedrock::Guardrail"]}]},
                        {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                            {"Field": "resources.type", "Equals": ["AWS::Bedrock::Model"]}]},
                        {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                            {"Field": "resources.type", "Equals": [
                                                "AWS::BedrockMantle::Project", "AWS::BedrockMantle::CustomizedModel",
                                                "AWS::BedrockMantle::Reservation"]}]},
                        # who read or deleted a prompt: object events under invocation logging's key prefix only
                        # (the trail's own log files are under AWSLogs/: selecting those would loop)
                        {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                            {"Field": "resources.ARN", "StartsWith": [
                                                {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]},
                                                                   "/bedrock/invocation-logs/"]]}]}]},
                    ],
                },
            },
            "Bucket": {
                "Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "ObjectLockEnabled": True,
                    "ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled",
                                                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 913}}},
                    "VersioningConfiguration": {"Status": "Enabled"},
                },
            },
            "Logging": {
                "Type": "Custom::BedrockInvocationLogging", **RETAIN,
                "Properties": {"LoggingConfig": {"s3Config": {"bucketName": {"Ref": "Bucket"},
                                                              "keyPrefix": "bedrock/invocation-logs"},
                                                 "textDataDeliveryEnabled": True}},
            },
            "AlertKey": {"Type": "AWS::KMS::Key", **RETAIN, "Properties": {}},
            "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": ["AlertKey", "Arn"]}}},
            "TamperRule": {"Type": "AWS::Events::Rule", "Properties": {
                "State": "ENABLED", "Targets": [{"Arn": {"Ref": "Alerts"}, "Id": "a"}],
                "EventPattern": {"detail-type": ["AWS API Call via CloudTrail"], "detail": {"eventName": [
                    "StopLogging", "DeleteTrail", "DeleteModelInvocationLoggingConfiguration",
                    "DeleteEnforcedGuardrailConfiguration", "ScheduleKeyDeletion", "DisableKey", "PutKeyPolicy",
                    "PutBucketObjectLockConfiguration", "PutBucketPolicy", "DisableRule", "DeleteRule",
                    "RemoveTargets", "PutRule", "PutTargets", "Unsubscribe", "SetTopicAttributes", "DeleteTopic",
                    "RemovePermission", "AddPermission", "SetSubscriptionAttributes"]}}}},
            "AlertsSubscription": {"Type": "AWS::SNS::Subscription", "Properties": {
                "TopicArn": {"Ref": "Alerts"}, "Protocol": "email", "Endpoint": "soc@example.gov"}},
            "InIamRegion": {"Type": "AWS::Events::Rule", "Condition": "IamRegion", "Properties": {
                "State": "ENABLED", "Targets": [{"Arn": {"Ref": "Alerts"}, "Id": "a"}],
                "EventPattern": {"detail-type": ["AWS API Call via CloudTrail"], "detail": {
                    "eventSource": ["iam.amazonaws.com"], "eventName": ["CreateServiceSpecificCredential"]}}}},
            "BearerTokens": {"Type": "AWS::Events::Rule", "Properties": {
                "State": "ENABLED", "Targets": [{"Arn": {"Ref": "Alerts"}, "Id": "a"}],
                "EventPattern": {"detail-type": ["AWS API Call via CloudTrail"], "detail": {
                    "eventSource": ["bedrock.amazonaws.com"],
                    "requestParameters": {"callWithBearerToken": [True]}}}}},
            "Logs": {
                "Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                "Properties": {"KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]}, "RetentionInDays": 365},
            },
        }
    }


def results(body: dict[str, Any], ctx: RuleContext | None = None) -> dict[str, set[Compliance]]:
    """Rule -> outcomes; a risk-accepted (suppressed) finding counts as accepted, not as a failure."""
    by_rule: dict[str, set[Compliance]] = {}
    for result in evaluate(Template("Stack", body), ctx):
        outcome = Compliance.COMPLIANT if result.suppression_reason else result.compliance
        by_rule.setdefault(result.rule_id, set()).add(outcome)
    return by_rule


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    """A hand-written IAM resource, as another construct or a careless edit would add it."""
    return {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {"Statement": list(statements)}}}


_PROJECT_DEFAULT = "arn:aws:bedrock:us-east-1:111122223333:project/default"


def mutate(path: str, value: Any) -> dict[str, Any]:
    """The good template with one value changed (``None`` deletes it)."""
    body = copy.deepcopy(good_template())
    target: Any = body["Resources"]
    *parents, leaf = path.split("/")
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is None:
        del target[int(leaf) if isinstance(target, list) else leaf]
    elif isinstance(target, list):
        target[int(leaf)] = value
    else:
        target[leaf] = value
    return body


def test_every_rule_passes_the_good_template() -> None:
    outcome = results(good_template())
    assert set(outcome) == set(RULES)
    assert all(values == {Compliance.COMPLIANT} for values in outcome.values()), outcome


# (rule that must fire, mutation path, new value)
NON_COMPLIANT = [
    ("Bedrock-RuntimeEndpointPresent", "EP/Properties/ServiceName", "com.amazonaws.us-gov-west-1.bedrock"),
    ("Bedrock-EndpointPrivateDns", "EP/Properties/PrivateDnsEnabled", False),
    ("Bedrock-EndpointPolicyNotDefault", "EP/Properties/PolicyDocument", None),
    ("Bedrock-EndpointPolicyNotDefault", "EP/Properties/PolicyDocument/Statement/0/Condition", None),
    ("Bedrock-RuntimeEndpointPolicyNamesModels", "EP/Properties/PolicyDocument/Statement/0/Action", "bedrock:*"),
    ("Bedrock-RuntimeEndpointPolicyNamesModels", "EP/Properties/PolicyDocument/Statement/0/Resource", "*"),
    ("Bedrock-EndpointSecurityGroupRestricted", "SG/Properties/SecurityGroupIngress/0/CidrIp", "0.0.0.0/0"),
    ("Bedrock-EndpointSecurityGroupRestricted", "SG/Properties/SecurityGroupIngress/0/ToPort", 8443),
    ("Bedrock-EndpointSecurityGroupRestricted", "EP/Properties/SecurityGroupIds", None),
    ("Bedrock-GuardrailPromptAttackHigh", "G/Properties/ContentPolicyConfig/FiltersConfig/0/InputStrength", "LOW"),
    ("Bedrock-GuardrailPiiFilters", "G/Properties/SensitiveInformationPolicyConfig", None),
    ("Bedrock-GuardrailCmkEncrypted", "G/Properties/KmsKeyArn", None),
    ("Bedrock-GuardrailCmkEncrypted", "G/Properties/KmsKeyArn", "alias/guardrail"),
    ("Bedrock-GuardrailVersionPublished", "GV", None),
    ("Bedrock-InvokeScopedToModels", "Policy/Properties/PolicyDocument/Statement/0/Resource", "*"),
    ("Bedrock-InvokeScopedToModels", "Policy/Properties/PolicyDocument/Statement/0/Action", "bedrock:*"),
    ("Bedrock-InvokeRequiresGuardrail",
     "Policy/Properties/PolicyDocument/Statement/0/Condition/StringEquals/bedrock:GuardrailIdentifier", None),
    ("Bedrock-InvokeRequiresVpcEndpoint",
     "Policy/Properties/PolicyDocument/Statement/0/Condition/StringEquals/aws:SourceVpce", None),
    ("Bedrock-TrailMultiRegionValidated", "Trail/Properties/IsMultiRegionTrail", False),
    ("Bedrock-TrailMultiRegionValidated", "Trail/Properties/EnableLogFileValidation", False),
    ("Bedrock-TrailBedrockDataEvents", "Trail/Properties/AdvancedEventSelectors/1", None),
    ("Bedrock-TrailBedrockDataEvents", "Trail/Properties/AdvancedEventSelectors/0", None),
    ("Bedrock-AuditBucketObjectLock", "Bucket/Properties/ObjectLockEnabled", None),
    ("Bedrock-AuditBucketObjectLock", "Bucket/Properties/VersioningConfiguration", None),
    ("Bedrock-InvocationLoggingConfigured", "Logging", None),
    ("Bedrock-InvocationLoggingConfigured", "Logging/Properties/LoggingConfig/textDataDeliveryEnabled", False),
    ("Bedrock-LogGroupEncryptedRetained", "Logs/Properties/KmsKeyId", None),
    ("Bedrock-LogGroupEncryptedRetained", "Logs/Properties/RetentionInDays", 90),
    ("Bedrock-AuditDataRetainedOnDelete", "Key/DeletionPolicy", "Delete"),
    ("Bedrock-AuditDataRetainedOnDelete", "Bucket/UpdateReplacePolicy", None),
    # Intrinsics must not hide what CloudFormation will deploy.
    ("Bedrock-InvokeScopedToModels", "Policy/Properties/PolicyDocument/Statement/0/Resource",
     [MODEL, {"Fn::Sub": "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/*"}]),
    ("Bedrock-InvokeScopedToModels", "Policy/Properties/PolicyDocument/Statement/0/Resource",
     [MODEL, {"Fn::If": ["Wide", "*", MODEL]}]),
    ("Bedrock-InvokeScopedToModels", "Policy/Properties/PolicyDocument/Statement/0/Resource",
     {"Fn::ImportValue": "SomeoneElsesModelArn"}),
    ("Bedrock-RuntimeEndpointPolicyNamesModels", "EP/Properties/PolicyDocument/Statement/0/Resource",
     {"Fn::Sub": "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/*"}),
    ("Bedrock-EndpointPrivateDns", "EP/Properties", {
        "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.bedrock-runtime"}, "PrivateDnsEnabled": False}),
    ("Bedrock-GuardrailCmkEncrypted", "G/Properties/KmsKeyArn",
     {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:alias/aws/bedrock"}),
    # Conditions must pin named values, not merely mention the key.
    ("Bedrock-EndpointPolicyNotDefault", "EP/Properties/PolicyDocument/Statement/0/Condition",
     {"StringLike": {"aws:PrincipalAccount": "*"}}),
    ("Bedrock-EndpointPolicyNotDefault", "EP/Properties/PolicyDocument/Statement/0/Condition",
     {"Null": {"aws:PrincipalAccount": "false"}}),
    ("Bedrock-InvokeRequiresGuardrail",
     "Policy/Properties/PolicyDocument/Statement/0/Condition/StringEquals/bedrock:GuardrailIdentifier",
     {"Fn::GetAtt": ["G", "GuardrailArn"]}),  # the bare ARN: the mutable DRAFT
    ("Bedrock-InvokeRequiresGuardrail",
     "Policy/Properties/PolicyDocument/Statement/0/Condition/StringEquals/bedrock:GuardrailIdentifier",
     "arn:aws-us-gov:bedrock:us-gov-west-1:111122223333:guardrail/abcdefghijkl:DRAFT"),
    ("Bedrock-TrailBedrockDataEvents", "Trail/Properties/AdvancedEventSelectors/0", {"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["true"]}]}),
    ("Bedrock-EndpointSecurityGroupRestricted", "SG/Properties/SecurityGroupIngress/0/CidrIp", "0.0.0.0/1"),
    ("Bedrock-EndpointSecurityGroupRestricted", "EP/Properties/SecurityGroupIds", ["sg-0123456789abcdef0"]),
    ("Bedrock-GuardrailPiiFilters", "G/Properties/SensitiveInformationPolicyConfig/PiiEntitiesConfig/0",
     {"Type": "US_SOCIAL_SECURITY_NUMBER", "Action": "BLOCK", "InputAction": "NONE", "OutputAction": "NONE"}),
    ("Bedrock-GuardrailPiiFilters", "G/Properties/SensitiveInformationPolicyConfig/PiiEntitiesConfig/0",
     {"Type": "US_SOCIAL_SECURITY_NUMBER", "Action": "BLOCK", "OutputEnabled": False}),
    ("Bedrock-AuditBucketObjectLock", "Bucket/Properties/ObjectLockConfiguration/Rule/DefaultRetention/Days", 1),
    # Organization policies: each protection removed or weakened.
    ("Bedrock-OrgScpDeniesApiKeys", "Scp/Properties/Content", without("keys")),
    ("Bedrock-OrgScpDeniesApiKeys", "Scp/Properties/Content", without("creation")),
    ("Bedrock-OrgScpDeniesApiKeys", "Scp/Properties/Content", without(keys={
        **ORG_STATEMENTS["keys"], "Action": "bedrock:CallWithBearerToken"})),
    ("Bedrock-OrgScpDeniesApiKeys", "Scp/Properties/Content", without(keys={
        **ORG_STATEMENTS["keys"], "Condition": {"StringEquals": {"bedrock:BearerTokenType": "LONG_TERM"}}})),
    ("Bedrock-OrgScpInferenceOnlyViaEndpoints", "Scp/Properties/Content", without("endpoint")),
    ("Bedrock-OrgScpInferenceOnlyViaEndpoints", "Scp/Properties/Content", without("region")),
    ("Bedrock-OrgScpInferenceOnlyViaEndpoints", "Scp/Properties/Content", without(endpoint={
        **ORG_STATEMENTS["endpoint"], "Action": INFERENCE[:2]})),  # Mantle left open
    ("Bedrock-OrgScpInferenceOnlyViaEndpoints", "Scp/Properties/Content", without(endpoint={
        **ORG_STATEMENTS["endpoint"], "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-*"}}})),
    ("Bedrock-OrgScpInferenceOnlyViaEndpoints", "Scp/Properties/Content", without(endpoint={
        **ORG_STATEMENTS["endpoint"], "Condition": {**ORG_STATEMENTS["endpoint"]["Condition"],
                                                    "ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}})),
    ("Bedrock-OrgScpInferenceOnlyViaEndpoints", "Scp/Properties/Content", without(region={
        **ORG_STATEMENTS["region"], "Condition": {**ORG_STATEMENTS["region"]["Condition"], "ArnNotLike": {
            "bedrock:InferenceProfileArn": "arn:aws:bedrock:*:*:inference-profile/us.*"}}})),  # exemption, no companion
    ("Bedrock-OrgScpUnguardedInferenceRestricted", "Scp/Properties/Content", without("unguarded")),
    ("Bedrock-OrgScpUnguardedInferenceRestricted", "Scp/Properties/Content", without(unguarded={
        **ORG_STATEMENTS["unguarded"], "Action": "bedrock:CreateModelInvocationJob"})),
    ("Bedrock-OrgScpUnguardedInferenceRestricted", "Scp/Properties/Content", without(unguarded={
        **ORG_STATEMENTS["unguarded"], "Condition": {"ArnNotLike": {"aws:PrincipalArn": "*"}}})),
    ("Bedrock-OrgRcpAuditResources", "Rcp", None),
    ("Bedrock-OrgRcpAuditResources", "Rcp/Properties/Content", _scp(RCP_STATEMENTS[0])),
    ("Bedrock-OrgRcpAuditResources", "Rcp/Properties/Content", _scp(
        {**RCP_STATEMENTS[0], "Action": "s3:*"}, RCP_STATEMENTS[1])),  # keys left open
    ("Bedrock-OrgAuditPlaneProtected", "Scp/Properties/Content", without("audit")),
    ("Bedrock-OrgAuditPlaneProtected", "Scp/Properties/Content", without(audit={
        **ORG_STATEMENTS["audit"], "Action": AUDIT_ACTIONS[1:]})),  # StopLogging allowed
    ("Bedrock-OrgAuditPlaneProtected", "Scp/Properties/Content", without(audit={
        **ORG_STATEMENTS["audit"], "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}})),
    ("Bedrock-OrgAuditPlaneProtected", "Scp/Properties/Content", without(audit={
        **ORG_STATEMENTS["audit"], "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}}})),
    ("Bedrock-OrgGuardrailPolicy", "OrgGuardrail", None),
    ("Bedrock-OrgGuardrailPolicy", "GuardrailPolicy", None),
    ("Bedrock-OrgGuardrailPolicy", "OrgGuardrail/Properties/Content",
     json.dumps({"bedrock": {"guardrail_inference": {"us-east-1": {"config_1": {
         "identifier": {"@@assign": "arn:aws:bedrock:us-east-1:111122223333:guardrail/abcdefghijkl"},
         "input_tags": {"@@assign": "ignore"}}}}}})),  # the bare ARN: DRAFT
    ("Bedrock-OrgGuardrailPolicy", "OrgGuardrail/Properties/Content",
     json.dumps({"bedrock": {"guardrail_inference": {"us-east-1": {"config_1": {
         "identifier": {"@@assign": "arn:aws:bedrock:us-east-1:111122223333:guardrail/abcdefghijkl:3"},
         "input_tags": {"@@assign": "honor"}}}}}})),  # input tags shrink what is checked
    ("Bedrock-OrgGuardrailPolicy", "OrgGuardrail/Properties/Content",
     json.dumps({"bedrock": {"guardrail_inference": {"us-east-1": {"config_1": {
         "identifier": {"@@assign": "arn:aws:bedrock:us-east-1:111122223333:guardrail/abcdefghijkl:3"},
         "selective_content_guarding": {"system": {"@@assign": "selective"},
                                        "messages": {"@@assign": "comprehensive"}}}}}}})),
    ("Bedrock-OrgPolicyWithinLimits", "Scp/Properties/Content",
     _scp(*ORG_STATEMENTS.values(), {"Sid": "Padding", "Effect": "Deny", "Action": "ec2:RunInstances",
                                     "Resource": [f"arn:aws:ec2:*:*:instance/i-{n:017d}" for n in range(150)]})),
    ("Bedrock-GuardrailEnforcedAccountLevel", "Enforced", None),
    ("Bedrock-AuditTamperDetected", "TamperRule", None),
    ("Bedrock-AuditTamperDetected", "TamperRule/Properties/State", "DISABLED"),
    ("Bedrock-AuditTamperDetected", "Alerts/Properties/KmsMasterKeyId", None),
    ("Bedrock-AuditTamperDetected", "TamperRule/Properties/Targets/0/Arn", "arn:aws-us-gov:sns:us-gov-west-1:1:x"),
    ("Bedrock-AuditTamperDetected", "TamperRule/Properties/EventPattern/detail/eventName/0", "StartLogging"),
    ("Bedrock-AuditTamperDetected", "TamperRule/Properties/EventPattern/detail/eventName/9", "EnableRule"),
    ("Bedrock-TamperAlertsReceived", "AlertsSubscription", None),
    ("Bedrock-IamEventRuleInIamRegion", "InIamRegion/Condition", None),
    ("Bedrock-DetectionDataEventsSelected", "Trail/Properties/AdvancedEventSelectors/2", None),
    ("Bedrock-DetectionDataEventsSelected", "Trail", None),
    ("Bedrock-AuditControlPlaneRetained", "Trail/DeletionPolicy", None),
    ("Bedrock-AuditControlPlaneRetained", "Logging/UpdateReplacePolicy", "Delete"),
    ("Bedrock-AuditKeyDeletionProtected", "Key/Properties/KeyPolicy/Statement/0", None),
    ("Bedrock-AuditKeyDeletionProtected", "Key/Properties/KeyPolicy/Statement/1", None),
    ("Bedrock-AuditKeyDeletionProtected", "Key/Properties/KeyPolicy/Statement/0/Action", ["kms:DisableKey"]),
    ("Bedrock-AuditKeyDeletionProtected", "Key/Properties/KeyPolicy/Statement/0/Condition",
     {"ArnNotLike": {"aws:PrincipalArn": "arn:aws-us-gov:iam::111122223333:role/*"}}),
    ("Bedrock-AuditKeyDeletionProtected", "Key/Properties/KeyPolicy/Statement/0/Condition",
     {"ArnNotEquals": {"aws:PrincipalArn": ADMINS}, "StringNotEquals": {"aws:SourceVpce": "vpce-1"}}),
    ("Bedrock-AuditKeyDeletionProtected", "Key/Properties/KeyPolicy/Statement/1/Condition/NumericLessThan",
     {"kms:ScheduleKeyDeletionPendingWindowInDays": "8"}),
    ("Bedrock-AuditKeyDeletionProtected", "Key/Properties/KeyPolicy/Statement/0/Effect", "Allow"),
    ("Bedrock-AuditBucketTamperDenied", "BucketPolicy/Properties/PolicyDocument/Statement/0", None),
    ("Bedrock-AuditBucketTamperDenied", "BucketPolicy/Properties/PolicyDocument/Statement/1", None),
    ("Bedrock-AuditBucketTamperDenied", "BucketPolicy/Properties/PolicyDocument/Statement/0/Principal",
     {"AWS": "arn:aws-us-gov:iam::111122223333:role/Someone"}),
    ("Bedrock-AuditBucketTamperDenied", "BucketPolicy", None),
    ("Bedrock-AuditObjectLockCompliance", "Bucket/Properties/ObjectLockConfiguration/Rule/DefaultRetention/Mode",
     "GOVERNANCE"),
    ("Bedrock-GuardrailEnforcedAccountLevel", "Enforced/Properties/SelectiveContentGuarding/Messages", "SELECTIVE"),
    ("Bedrock-GuardrailEnforcedAccountLevel", "Enforced/Properties/SelectiveContentGuarding", None),
    ("Bedrock-GuardrailEnforcedAccountLevel", "Enforced/Properties/GuardrailVersion", "DRAFT"),
    ("Bedrock-GuardrailEnforcedAccountLevel", "Enforced/Properties/ModelEnforcement",
     {"IncludedModels": ["ALL"], "ExcludedModels": ["openai.gpt-oss-120b-1:0"]}),
    ("Bedrock-GuardrailEnforcedAccountLevel", "Enforced/Properties/ModelEnforcement",
     {"IncludedModels": ["openai.gpt-oss-20b-1:0"], "ExcludedModels": []}),
    # Every inference-bearing action of both namespaces is judged, not only InvokeModel.
    ("Bedrock-InvokeRequiresGuardrail", "Agents", _policy({"Effect": "Allow", "Action": "bedrock:InvokeAgent",
                                                            "Resource": MODEL})),
    ("Bedrock-InvokeScopedToModels", "Keys", _policy({"Effect": "Allow", "Action": "bedrock:CallWithBearerToken",
                                                      "Resource": "*"})),
    ("Bedrock-InvokeRequiresVpcEndpoint", "Batch", _policy({"Effect": "Allow", "Action": "bedrock:CreateModelInvocationJob",
                                                            "Resource": MODEL})),
    # Unguarded paths: a Mantle grant without acceptance (the suppression), hand-written or not; the
    # OpenAI-compatible runtime APIs on a project; Managed Agents sessions.
    ("Bedrock-UnguardedInferencePath", "MantlePolicy/Metadata", None),
    ("Bedrock-UnguardedInferencePath", "Extra", _policy({"Effect": "Allow", "Action": "bedrock-mantle:*", "Resource": "*"})),
    ("Bedrock-UnguardedInferencePath", "Extra", _policy({
        "Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": _PROJECT_DEFAULT,
        "Condition": {"StringEquals": {"bedrock:ModelArn": MODEL, "aws:SourceVpce": "vpce-0123456789abcdef0"}}})),
    ("Bedrock-UnguardedInferencePath", "Extra", _policy({
        "Effect": "Allow", "Action": "bedrock-mantle:CreateAgentSession", "Resource": PROJECT})),
    # A Mantle grant must name the project, pin the models and require the endpoint.
    ("Bedrock-MantleInferenceScoped", "MantlePolicy/Properties/PolicyDocument/Statement/0/Condition/StringEquals/"
                                      "bedrock-mantle:Model", None),
    ("Bedrock-MantleInferenceScoped", "MantlePolicy/Properties/PolicyDocument/Statement/0/Condition/StringEquals/"
                                      "aws:SourceVpce", None),
    ("Bedrock-MantleInferenceScoped", "MantlePolicy/Properties/PolicyDocument/Statement/0/Resource",
     {"Fn::Sub": "arn:${AWS::Partition}:bedrock-mantle:${AWS::Region}:${AWS::AccountId}:project/*"}),
    ("Bedrock-MantleInferenceScoped", "MantlePolicy/Properties/PolicyDocument/Statement/0/Resource",
     {"Fn::Sub": "arn:${AWS::Partition}:bedrock-mantle:${AWS::Region}:${AWS::AccountId}:project/default"}),
    ("Bedrock-MantleInferenceScoped", "MantlePolicy/Properties/PolicyDocument/Statement/0/Condition/StringEquals/"
                                      "bedrock-mantle:Model", ["openai.*"]),
    # Every Bedrock endpoint names its actions; the Mantle endpoint also the project and the models.
    ("Bedrock-EndpointPolicyNamesActions", "EPM/Properties/PolicyDocument/Statement/0/Action", "bedrock-mantle:*"),
    ("Bedrock-EndpointPolicyNamesActions", "EPM/Properties/PolicyDocument/Statement/0/Resource", "*"),
    ("Bedrock-EndpointPolicyNamesActions", "EPM/Properties/PolicyDocument/Statement/0/Condition/StringEquals/"
                                           "bedrock-mantle:Model", None),
    ("Bedrock-EndpointPolicyNamesActions", "EP/Properties/PolicyDocument/Statement/0/Action", "bedrock:*"),
    # A condition on a key AWS never sends for the actions; an RCP on a service RCPs do not cover.
    ("Bedrock-ConditionKeyNeverSent", "Policy/Properties/PolicyDocument/Statement/0/Condition/StringEquals/"
                                      "aws:VpceOrgID", "o-abcdefghij"),
    ("Bedrock-ConditionKeyNeverSent", "Scp/Properties/Content", without(endpoint={
        **ORG_STATEMENTS["endpoint"], "Condition": {"StringNotEquals": {"aws:VpceOrgID": "o-abcdefghij"}}})),
    ("Bedrock-ConditionKeyNeverSent", "Rcp/Properties/Content", _scp(
        *RCP_STATEMENTS, {**RCP_STATEMENTS[1], "Action": "bedrock:*"})),
    # The trail records who read or deleted prompts (S3 object events of the invocation-log objects), Bedrock and,
    # where the partition has Mantle, Mantle data events; a stack without a trail names the one that records it.
    ("Bedrock-TrailDataEventCoverage", "Trail/Properties/AdvancedEventSelectors/4", None),
    ("Bedrock-TrailDataEventCoverage", "Trail/Properties/AdvancedEventSelectors/4/FieldSelectors/1",
     {"Field": "readOnly", "Equals": ["true"]}),  # reads (of any type) only: deletes unrecorded
    ("Bedrock-TrailDataEventCoverage", "Trail/Properties/AdvancedEventSelectors/4/FieldSelectors/2/StartsWith",
     [{"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/AWSLogs/"]]}]),  # another prefix
    ("Bedrock-TrailDataEventCoverage", "Logging/Properties/LoggingConfig/s3Config/keyPrefix", "prompts"),
    ("Bedrock-TrailDataEventCoverage", "Trail/Properties/AdvancedEventSelectors/3", None),  # Mantle (aws-us-gov)
    ("Bedrock-TrailDataEventCoverage", "Trail/Properties/AdvancedEventSelectors/1", None),  # Guardrail
    ("Bedrock-TrailDataEventCoverage", "Trail", None),  # no trail, and none named
    # The trail must record Mantle inference wherever the stack allows Mantle.
    ("Bedrock-TrailMantleDataEvents", "Trail/Properties/AdvancedEventSelectors/3", None),
    ("Bedrock-TrailMantleDataEvents", "Trail/Properties/AdvancedEventSelectors/3/FieldSelectors/1/Equals",
     ["AWS::BedrockMantle::Project"]),
    # One per account (and region) within the template too (across stacks: tests/test_one_per_account.py).
    ("Bedrock-OneTrailPerAccount", "Trail2",
     {"Type": "AWS::CloudTrail::Trail", "Properties": {"IsMultiRegionTrail": True}}),
    ("Bedrock-OneGuardrailEnforcementPerRegion", "Enforced2",
     {"Type": "AWS::Bedrock::EnforcedGuardrailConfiguration", "Properties": {}}),
    ("Bedrock-OneInvocationLoggingPerRegion", "Logging2",
     {"Type": "Custom::BedrockModelInvocationLogging", "Properties": {"LoggingConfig": {}}}),
]


@pytest.mark.parametrize(("rule_id", "path", "value"), NON_COMPLIANT, ids=[f"{r}:{p}" for r, p, _ in NON_COMPLIANT])
def test_rule_fires_when_its_protection_is_removed(rule_id: str, path: str, value: Any) -> None:
    assert Compliance.NON_COMPLIANT in results(mutate(path, value)).get(rule_id, set())


def test_every_rule_has_a_non_compliant_case_and_controls() -> None:
    assert {r for r, _, _ in NON_COMPLIANT} == set(RULES)
    for rule_ in RULES.values():
        assert rule_.controls and all(c[:2].isalpha() and c[2] == "-" for c in rule_.controls), rule_.id
        assert rule_.explanation and rule_.fix


def test_enforcement_listing_the_granted_models_is_enough() -> None:
    body = mutate("Enforced/Properties/ModelEnforcement",
                  {"IncludedModels": ["openai.gpt-oss-120b-1:0"], "ExcludedModels": ["amazon.titan-embed-text-v2:0"]})
    assert results(body)["Bedrock-GuardrailEnforcedAccountLevel"] == {Compliance.COMPLIANT}


def test_a_granted_embedding_model_excluded_from_enforcement_is_no_gap() -> None:
    """AWS: embedding calls fail under an enforced guardrail, so enforcement excludes them (BedrockGuardrail does)."""
    body = mutate("Policy/Properties/PolicyDocument/Statement/0/Resource", [
        MODEL, "arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/amazon.titan-embed-text-v2:0"])
    body["Resources"]["Enforced"]["Properties"]["ModelEnforcement"] = {
        "IncludedModels": ["ALL"], "ExcludedModels": ["amazon.titan-embed-text-v2:0"]}
    assert results(body)["Bedrock-GuardrailEnforcedAccountLevel"] == {Compliance.COMPLIANT}
    body["Resources"]["Enforced"]["Properties"]["ModelEnforcement"]["ExcludedModels"].append("openai.gpt-oss-120b-1:0")
    assert results(body)["Bedrock-GuardrailEnforcedAccountLevel"] == {Compliance.NON_COMPLIANT}


def test_retention_minimum_comes_from_config() -> None:
    assert results(good_template(), RuleContext(min_log_retention_days=731))["Bedrock-LogGroupEncryptedRetained"] == {
        Compliance.NON_COMPLIANT
    }


def test_suppression_metadata_marks_the_finding_with_its_reason() -> None:
    body = mutate("Logs/Properties/RetentionInDays", 90)
    reason = "Scratch log group of a sandbox; no audit data is written to it by any component here."
    body["Resources"]["Logs"]["Metadata"] = {
        "cdk_nag": {"rules_to_suppress": [{"id": "Bedrock-LogGroupEncryptedRetained", "reason": reason}]}
    }
    (line,) = [r for r in evaluate(Template("Stack", body)) if r.rule_id == "Bedrock-LogGroupEncryptedRetained"]
    assert line.suppression_reason == reason
    assert line.report_line()["compliance"] == "Suppressed"


def test_guarded_invoke_grants_pass_the_unguarded_path_rule_and_mantle_needs_no_selectors_without_mantle() -> None:
    body = good_template()
    for lid in ("Project", "EPM", "MantlePolicy"):
        del body["Resources"][lid]
    outcome = results(body)
    assert outcome["Bedrock-UnguardedInferencePath"] == {Compliance.COMPLIANT}
    assert outcome["Bedrock-TrailMantleDataEvents"] == {Compliance.NOT_APPLICABLE}
    assert "Bedrock-MantleInferenceScoped" not in outcome


def test_a_guardrail_pinned_invoke_on_any_resource_is_not_an_openai_api_path() -> None:
    """Responses/Chat Completions carry no guardrail, so a guardrail-pinned grant cannot open them."""
    body = mutate("Policy/Properties/PolicyDocument/Statement/0/Resource", "*")
    assert results(body)["Bedrock-UnguardedInferencePath"] == {Compliance.COMPLIANT}


def test_stacks_without_bedrock_use_are_not_judged_on_it() -> None:
    body = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {}}}}
    outcome = results(body)
    assert outcome["Bedrock-RuntimeEndpointPresent"] == {Compliance.NOT_APPLICABLE}
    assert outcome["Bedrock-InvocationLoggingConfigured"] == {Compliance.NOT_APPLICABLE}


@pytest.mark.parametrize("policy_type", ["AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy"])
def test_inline_policy_resources_are_judged_too(policy_type: str) -> None:
    body = good_template()
    body["Resources"]["Inline"] = {"Type": policy_type, "Properties": {"PolicyName": "p", "PolicyDocument": {
        "Statement": [{"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]}}}
    outcome = results(body)
    for rule_id in ("Bedrock-InvokeScopedToModels", "Bedrock-InvokeRequiresGuardrail", "Bedrock-InvokeRequiresVpcEndpoint"):
        assert Compliance.NON_COMPLIANT in outcome[rule_id], rule_id


def test_a_marked_audit_bucket_is_judged_without_a_trail() -> None:
    """A cross-region replica bucket: no trail in its stack references it; AuditBucket's marker does."""
    body = {"Resources": {"Replica": {"Type": "AWS::S3::Bucket", "Metadata": {"compliant-bedrock:audit-bucket": True},
                                      "Properties": {"ObjectLockEnabled": True}}}}
    outcome = results(body)
    assert outcome["Bedrock-AuditBucketObjectLock"] == {Compliance.NON_COMPLIANT}  # no retention, no versioning
    assert outcome["Bedrock-AuditDataRetainedOnDelete"] == {Compliance.NON_COMPLIANT}


def test_a_rule_that_throws_reports_unknown_and_blocks() -> None:
    from compliant_bedrock.compliance.gate import Finding, blocking

    body = mutate("G/Properties/ContentPolicyConfig/FiltersConfig", ["PROMPT_ATTACK"])  # not the shape rules know
    assert results(body)["Bedrock-GuardrailPromptAttackHigh"] == {Compliance.UNKNOWN}
    line = next(r for r in evaluate(Template("Stack", body)) if r.rule_id == "Bedrock-GuardrailPromptAttackHigh")
    finding = Finding(pack="Bedrock", stack="Stack", rule_id=line.rule_id, resource=line.resource_path,
                      level="Error", compliance=line.report_line()["compliance"], controls=(), info="", reason=None)
    assert blocking([finding]) == [finding]
    assert "suppress(<construct>, 'Bedrock-GuardrailPromptAttackHigh'" in finding.line()


# A value a template condition can remove is not there for sure (cdk-nag's own tests cover this case).
NO_VALUE = {"Ref": "AWS::NoValue"}
REMOVABLE = [
    ("Bedrock-GuardrailCmkEncrypted", "G/Properties/KmsKeyArn",
     {"Fn::If": ["UseKey", {"Fn::GetAtt": ["Key", "Arn"]}, NO_VALUE]}),
    ("Bedrock-InvokeRequiresVpcEndpoint",
     "Policy/Properties/PolicyDocument/Statement/0/Condition/StringEquals/aws:SourceVpce",
     {"Fn::If": ["Private", {"Ref": "EP"}, NO_VALUE]}),
    ("Bedrock-InvokeRequiresGuardrail",
     "Policy/Properties/PolicyDocument/Statement/0/Condition/StringEquals/bedrock:GuardrailIdentifier",
     {"Fn::If": ["Guarded", GUARDRAIL_VERSIONED, NO_VALUE]}),
]


@pytest.mark.parametrize(("rule_id", "path", "value"), REMOVABLE, ids=[r for r, _, _ in REMOVABLE])
def test_a_value_a_condition_can_remove_does_not_pass(rule_id: str, path: str, value: Any) -> None:
    assert results(mutate(path, value))[rule_id] == {Compliance.NON_COMPLIANT}
    keep = copy.deepcopy(value)
    keep["Fn::If"][2] = keep["Fn::If"][1]  # both branches keep the value: compliant again
    assert results(mutate(path, keep))[rule_id] == {Compliance.COMPLIANT}


def test_a_template_parameter_counts_as_open() -> None:
    """A parameter's value is chosen at deploy time and could be ``*``."""
    body = mutate("Policy/Properties/PolicyDocument/Statement/0/Resource", {"Ref": "ModelArn"})
    assert results(body)["Bedrock-InvokeScopedToModels"] == {Compliance.COMPLIANT}  # a resource it cannot see
    body["Parameters"] = {"ModelArn": {"Type": "String"}}
    assert results(body)["Bedrock-InvokeScopedToModels"] == {Compliance.NON_COMPLIANT}


@pytest.mark.parametrize(("exempt", "compliant"), [
    ("arn:aws-us-gov:iam::111122223333:role/stacksets-exec-0123456789abcdef", True),  # StackSets' role, exactly
    ("arn:aws-us-gov:iam::111122223333:role/stacksets-exec-*", False),  # a name anyone can create (N1)
    ("arn:aws-us-gov:iam::111122223333:role/stack*", False),            # too short a prefix to name a role
    ("arn:aws-us-gov:iam::*:role/stacksets-exec-*", False),             # any account
    ("arn:aws-us-gov:iam::111122223333:role/stacksets-*-exec", False),  # a wildcard inside the name
])
def test_a_key_deny_may_exempt_exact_roles_only(exempt: str, compliant: bool) -> None:
    value = {"ArnNotEquals": {"aws:PrincipalArn": [ADMINS[0], exempt]}}
    outcome = results(mutate("Key/Properties/KeyPolicy/Statement/0/Condition", value))["Bedrock-AuditKeyDeletionProtected"]
    assert outcome == {Compliance.COMPLIANT if compliant else Compliance.NON_COMPLIANT}


def test_the_pack_is_exactly_the_rules_of_the_listed_modules() -> None:
    """Registration is explicit (compliance.rules.MODULES); importing a rule module registers nothing."""
    from compliant_bedrock.compliance.pack import Rule, rule
    from compliant_bedrock.compliance.rules import MODULES

    declared = [v.rule.id for m in MODULES for v in vars(m).values() if isinstance(getattr(v, "rule", None), Rule)]
    assert sorted(declared) == sorted(RULES) and len(set(declared)) == len(declared)

    @rule("NotListed", controls=("AC-3",), explanation="x", fix="y")
    def not_listed(template, ctx):  # declared outside the listed modules: not part of the pack
        return Compliance.COMPLIANT

    assert "Bedrock-NotListed" not in RULES


def test_a_stack_without_a_trail_passes_data_event_coverage_only_by_naming_the_trail_that_records_it() -> None:
    body = mutate("Trail", None)
    assert results(body)["Bedrock-TrailDataEventCoverage"] == {Compliance.NON_COMPLIANT}
    body["Metadata"] = {TRAIL_COVERAGE_METADATA: {"trail": "arn:aws-us-gov:cloudtrail:us-gov-west-1:111111111111:"
                                                           "trail/organization-audit",
                                                  "reason": "too short"}}
    assert results(body)["Bedrock-TrailDataEventCoverage"] == {Compliance.NON_COMPLIANT}
    body["Metadata"][TRAIL_COVERAGE_METADATA]["reason"] = (
        "The organization trail of the management account records every member account's data events")
    assert results(body)["Bedrock-TrailDataEventCoverage"] == {Compliance.COMPLIANT}


def test_data_event_coverage_asks_for_mantle_only_where_the_partition_has_it() -> None:
    """aws-iso has no bedrock-mantle: a trail there cannot select its types (CloudTrail rejects them)."""
    iso = json.loads(json.dumps(mutate("Trail/Properties/AdvancedEventSelectors/3", None)).replace(
        "arn:aws-us-gov:", "arn:aws-iso:"))
    for lid in ("Project", "EPM", "MantlePolicy"):  # and the stack allows no Mantle
        del iso["Resources"][lid]
    assert results(iso)["Bedrock-TrailDataEventCoverage"] == {Compliance.COMPLIANT}
    assert template_partition(Template("Iso", iso)) == "aws-iso"


def test_data_event_gaps_reads_an_organization_trails_selectors_as_the_api_returns_them() -> None:
    """The cross-stack check runs the same pure function on ``aws cloudtrail get-event-selectors`` output."""
    bucket = "arn:aws-us-gov:s3:::compliantbedrock-govcloud-invocationloggingbucket-1a2b3c"
    selectors = [
        {"Name": "Management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        {"Name": "Bedrock", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                               {"Field": "resources.type", "Equals": ["AWS::Bedrock::Model"]}]},
        {"Name": "Prompts", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                               {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                               {"Field": "resources.ARN", "StartsWith": ["arn:aws-us-gov:s3:::"
                                                                                          "compliantbedrock-"]}]},
    ]
    required = {"resource_types": ["AWS::Bedrock::Model", "AWS::BedrockMantle::Project"],
                "object_arn_prefixes": [f"{bucket}/bedrock/invocation-logs/", "arn:aws-us-gov:s3:::other-bucket/"]}
    assert data_event_gaps(selectors, **required) == [
        "AWS::BedrockMantle::Project data events", "AWS::S3::Object events under arn:aws-us-gov:s3:::other-bucket/"]
    selectors[2]["FieldSelectors"].append({"Field": "eventName", "Equals": ["GetObject"]})  # a subset: no deletes
    assert "AWS::S3::Object events under " + bucket + "/bedrock/invocation-logs/" in data_event_gaps(selectors, **required)
    all_objects = {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                      {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}
    assert data_event_gaps([*selectors, all_objects], object_arn_prefixes=required["object_arn_prefixes"]) == []
