"""The guardrail construct and the federal baseline: synthesized properties, validation, versions, nag.

Four synths in all (module-scoped fixtures); everything else builds constructs without synthesizing.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match, Template
from cdk_nag import NIST80053R5Checks
from conftest import new_stack

from compliant_bedrock import guardrail as guardrail_module
from compliant_bedrock import guardrail_presets
from compliant_bedrock.guardrail import (
    DEFAULT_BLOCKED_INPUT_MESSAGE,
    DEFAULT_BLOCKED_OUTPUT_MESSAGE,
    BedrockGuardrail,
    ContentFilter,
    DeniedTopic,
    GroundingFilter,
    GuardrailPolicy,
    PiiEntity,
    RegexFilter,
    WordPolicy,
    guardrail_profile_for_region,
)
from compliant_bedrock.guardrail_presets import (
    CLASSIFICATION_MARKING_REGEXES,
    CREDENTIAL_TYPES,
    US_PII_TYPES,
    federal_baseline,
    rag_grounding,
)

ACCOUNT = "111122223333"
GUARDRAIL = "AWS::Bedrock::Guardrail"
VERSION = "AWS::Bedrock::GuardrailVersion"
ENFORCED = "AWS::Bedrock::EnforcedGuardrailConfiguration"


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _one(template: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    found = _of_type(template, kind)
    assert len(found) == 1, f"expected one {kind}, found {list(found)}"
    return next(iter(found.items()))


def _logical_id(construct: cdk.CfnElement) -> str:
    stack = cdk.Stack.of(construct)
    return stack.resolve(stack.get_logical_id(construct))


# ---------------------------------------------------------------------------------------------- fixtures


class Built:
    def __init__(self, stack: cdk.Stack, **guardrails: BedrockGuardrail) -> None:
        self.stack = stack
        self.guardrails = guardrails
        self.template = Template.from_stack(stack)
        self.json = self.template.to_json()

    def props(self, name: str) -> dict[str, Any]:
        return self.json["Resources"][_logical_id(self.guardrails[name].guardrail)]["Properties"]

    def resource(self, construct: cdk.CfnElement) -> dict[str, Any]:
        return self.json["Resources"][_logical_id(construct)]


#: Bedrock's embedding models in aws (models.EMBEDDING_MODELS), spelled out: the test must not follow the catalog.
AWS_EMBEDDING_MODELS = ["amazon.titan-embed-text-v2:0", "amazon.titan-embed-text-v1", "amazon.titan-embed-image-v1",
                        "cohere.embed-english-v3", "cohere.embed-multilingual-v3"]
EMBEDDINGS_BLOCKED = ("This account must not create embeddings at all; failing every embedding call is the intended "
                      "block, approved in ticket SEC-1234")


@pytest.fixture(scope="module")
def baseline() -> Built:
    """The preset as is, in us-east-1, granted to two roles, with a stack tag."""
    stack = new_stack()
    cdk.Tags.of(stack).add("Owner", "platform-team")
    g = BedrockGuardrail(stack, "Guardrail", name="federal-baseline")
    for role_id in ("AppRole", "BatchRole"):
        role = iam.Role(stack, role_id, assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
        g.grant_apply(role)
    return Built(stack, main=g)


CUSTOM_TOPIC = DeniedTopic(
    "Weapons_Procurement", "Advice on acquiring weapons or controlled munitions outside official channels.",
    examples=("Where can I buy an unregistered rifle?", "How do I export ITAR items without a license?"),
    output_action="NONE",
)


@pytest.fixture(scope="module")
def options() -> Built:
    """Every option: STANDARD tier, own key, topics, words, grounding, enforcement, ANONYMIZE preset."""
    stack = new_stack()
    own_key = kms.Key(stack, "OwnKey", enable_key_rotation=True)
    base = federal_baseline()
    custom_policy = replace(
        base,
        content_filters=(
            ContentFilter("HATE", input_strength="MEDIUM", output_strength="LOW", output_action="NONE",
                          input_modalities=("TEXT", "IMAGE"), output_enabled=False),
            ContentFilter.prompt_attack("MEDIUM"),
        ),
        pii_entities=(PiiEntity("EMAIL", action="ANONYMIZE", input_action="NONE"),),
        regexes=(RegexFilter("CaseNumber", r"CASE-[0-9]{6}", description="Internal case ids", action="ANONYMIZE"),),
        denied_topics=(CUSTOM_TOPIC,),
        word_policy=WordPolicy(words=("Project Nightjar",), profanity=True, output_action="NONE"),
        grounding_filters=rag_grounding(0.8, 0.6),
    )
    custom = BedrockGuardrail(
        stack, "Custom", name="custom_rag-1", policy=custom_policy, description="RAG assistant guardrail",
        blocked_input_message="Blocked.", blocked_output_message="Withheld.", tier="STANDARD", kms_key=own_key,
        enforce_account_level=True,
        enforcement_excluded_models=["amazon.titan-embed-text-v2:0", "amazon.nova-2-multimodal-embeddings-v1:0"],
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    anonymize = BedrockGuardrail(
        stack, "Anonymize", name="anonymize", enforce_account_level=False,
        policy=federal_baseline(pii_action="ANONYMIZE", block_classification_markings=False, image_filters=True,
                                profanity=False),
    )
    built = Built(stack, custom=custom, anonymize=anonymize)
    built.own_key = own_key  # type: ignore[attr-defined]
    return built


@pytest.fixture(scope="module")
def govcloud() -> Built:
    stack = new_stack(region="us-gov-west-1")
    return Built(stack, main=BedrockGuardrail(stack, "Guardrail", name="gov-standard", tier="STANDARD"))


# ------------------------------------------------------------------------------------ preset, synthesized


def test_preset_content_filters(baseline: Built) -> None:
    content = baseline.props("main")["ContentPolicyConfig"]
    assert content["ContentFiltersTierConfig"] == {"TierName": "CLASSIC"}
    filters = {f["Type"]: f for f in content["FiltersConfig"]}
    assert list(filters) == ["HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT", "PROMPT_ATTACK"]
    for category in ("HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT"):
        assert filters[category] == {
            "Type": category, "InputStrength": "HIGH", "OutputStrength": "HIGH",
            "InputAction": "BLOCK", "OutputAction": "BLOCK", "InputEnabled": True, "OutputEnabled": True,
            "InputModalities": ["TEXT"], "OutputModalities": ["TEXT"],
        }
    assert filters["PROMPT_ATTACK"] == {
        "Type": "PROMPT_ATTACK", "InputStrength": "HIGH", "OutputStrength": "NONE",
        "InputAction": "BLOCK", "InputEnabled": True, "InputModalities": ["TEXT"],
    }


def test_preset_pii_entities(baseline: Built) -> None:
    pii = baseline.props("main")["SensitiveInformationPolicyConfig"]["PiiEntitiesConfig"]
    by_type = {p["Type"]: p for p in pii}
    assert list(by_type) == [*US_PII_TYPES, *CREDENTIAL_TYPES]
    assert {"US_SOCIAL_SECURITY_NUMBER", "US_PASSPORT_NUMBER", "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
            "US_BANK_ACCOUNT_NUMBER", "US_BANK_ROUTING_NUMBER", "DRIVER_ID", "CREDIT_DEBIT_CARD_NUMBER",
            "AWS_ACCESS_KEY", "AWS_SECRET_KEY"} <= set(by_type)
    assert set(by_type) <= set(guardrail_module.PII_ENTITY_TYPES)
    for entry in pii:
        assert entry == {"Type": entry["Type"], "Action": "BLOCK", "InputAction": "BLOCK", "OutputAction": "BLOCK",
                         "InputEnabled": True, "OutputEnabled": True}


def test_preset_regexes_words_and_messages(baseline: Built) -> None:
    props = baseline.props("main")
    regexes = props["SensitiveInformationPolicyConfig"]["RegexesConfig"]
    assert [r["Name"] for r in regexes] == ["ClassificationBanner", "ClassificationPortionMarking", "CuiMarking"]
    assert [r["Pattern"] for r in regexes] == [r.pattern for r in CLASSIFICATION_MARKING_REGEXES]
    for r in regexes:
        assert (r["Action"], r["InputAction"], r["OutputAction"]) == ("BLOCK", "BLOCK", "BLOCK")
        assert r["InputEnabled"] is True and r["OutputEnabled"] is True and r["Description"]
    assert props["WordPolicyConfig"] == {"ManagedWordListsConfig": [{
        "Type": "PROFANITY", "InputAction": "BLOCK", "OutputAction": "BLOCK", "InputEnabled": True,
        "OutputEnabled": True,
    }]}
    assert props["BlockedInputMessaging"] == DEFAULT_BLOCKED_INPUT_MESSAGE
    assert props["BlockedOutputsMessaging"] == DEFAULT_BLOCKED_OUTPUT_MESSAGE
    assert props["Name"] == "federal-baseline"
    for absent in ("TopicPolicyConfig", "ContextualGroundingPolicyConfig", "CrossRegionConfig", "Description"):
        assert absent not in props


def test_kms_key_arn_from_the_key_and_key_policy(baseline: Built) -> None:
    key_id, key = _one(baseline.json, "AWS::KMS::Key")
    assert baseline.props("main")["KmsKeyArn"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = {s.get("Sid"): s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    via = {"kms:CallerAccount": ACCOUNT,
           "kms:ViaService": {"Fn::Join": ["", ["bedrock.us-east-1.", {"Ref": "AWS::URLSuffix"}]]}}
    use = statements["AllowBedrockGuardrailUseByThisAccount"]
    assert use["Principal"] == {"AWS": "*"} and use["Effect"] == "Allow"
    assert sorted(use["Action"]) == ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
    assert use["Condition"] == {"StringEquals": via}
    grants = statements["AllowBedrockGuardrailGrantsByThisAccount"]
    assert grants["Action"] == "kms:CreateGrant"
    assert grants["Condition"] == {"StringEquals": via, "Bool": {"kms:GrantIsForAWSResource": "true"}}
    # Nothing but the account's own administration and these two statements.
    assert set(statements) == {
        None, "AllowBedrockGuardrailUseByThisAccount", "AllowBedrockGuardrailGrantsByThisAccount",
    }


def test_key_and_guardrail_survive_destroy(baseline: Built, options: Built) -> None:
    _, key = _one(baseline.json, "AWS::KMS::Key")
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert key["Properties"]["PendingWindowInDays"] == 30
    main = baseline.resource(baseline.guardrails["main"].guardrail)
    assert (main["DeletionPolicy"], main["UpdateReplacePolicy"]) == ("Retain", "Retain")
    custom = options.resource(options.guardrails["custom"].guardrail)
    assert custom["DeletionPolicy"] == "Delete"  # removal_policy=DESTROY is honoured
    # Published versions named in logs outlive config changes and the stack, like the guardrail.
    version = baseline.resource(baseline.guardrails["main"].version_resource)
    assert (version["DeletionPolicy"], version["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_stack_tags_propagate(baseline: Built) -> None:
    assert {"Key": "Owner", "Value": "platform-team"} in baseline.props("main")["Tags"]
    _, key = _one(baseline.json, "AWS::KMS::Key")
    assert {"Key": "Owner", "Value": "platform-team"} in key["Properties"]["Tags"]


# ------------------------------------------------------------------------------ version, ARN, grant


def test_version_resource_and_versioned_arn(baseline: Built) -> None:
    g = baseline.guardrails["main"]
    gid = _logical_id(g.guardrail)
    vid, version = _one(baseline.json, VERSION)
    assert vid == _logical_id(g.version_resource)
    assert g.config_hash[:12] in vid
    assert version["Properties"]["GuardrailIdentifier"] == {"Fn::GetAtt": [gid, "GuardrailId"]}
    assert version["Properties"]["Description"] == f"compliant-bedrock configuration {g.config_hash[:12]}"
    stack = baseline.stack
    assert stack.resolve(g.guardrail_arn) == {"Fn::GetAtt": [gid, "GuardrailArn"]}
    assert stack.resolve(g.guardrail_id) == {"Fn::GetAtt": [gid, "GuardrailId"]}
    assert stack.resolve(g.version) == {"Fn::GetAtt": [vid, "Version"]}
    assert stack.resolve(g.versioned_arn) == {
        "Fn::Join": ["", [{"Fn::GetAtt": [gid, "GuardrailArn"]}, ":", {"Fn::GetAtt": [vid, "Version"]}]]
    }


def test_account_level_enforcement_is_on_by_default_and_guards_the_whole_request(baseline: Built) -> None:
    """Every principal of the account, every model, messages and system prompt whatever the request marks."""
    g = baseline.guardrails["main"]
    gid, vid = _logical_id(g.guardrail), _logical_id(g.version_resource)
    eid, enforced = _one(baseline.json, ENFORCED)
    assert eid == _logical_id(g.enforced_configuration)
    assert enforced["Properties"] == {
        "GuardrailIdentifier": {"Fn::GetAtt": [gid, "GuardrailId"]},
        "GuardrailVersion": {"Fn::GetAtt": [vid, "Version"]},  # the published number, never DRAFT
        "SelectiveContentGuarding": {"Messages": "COMPREHENSIVE", "System": "COMPREHENSIVE"},
        # Every model but the embedding models, whose calls fail under an enforced guardrail (AWS).
        "ModelEnforcement": {"IncludedModels": ["ALL"], "ExcludedModels": AWS_EMBEDDING_MODELS},
    }
    pid, policy = _one(baseline.json, "AWS::Bedrock::ResourcePolicy")
    assert enforced["DependsOn"] == [pid]  # callers may apply the guardrail before it is enforced
    assert policy["Properties"] == {
        "ResourceArn": {"Fn::GetAtt": [gid, "GuardrailArn"]},
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Sid": "ApplyByThisAccountsAuthorizedPrincipals", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": ["bedrock:ApplyGuardrail"], "Resource": {"Fn::GetAtt": [gid, "GuardrailArn"]}}]},
    }


@pytest.mark.parametrize(("region", "excluded"), [
    ("us-gov-west-1", ["amazon.titan-embed-text-v2:0"]),  # UNCERTAIN there: the one AWS id found (models.py)
    ("us-iso-east-1", None),  # no documented embedding model: enforcement covers every model
    (None, ["amazon.titan-embed-text-v2:0"]),  # env-agnostic: the ids documented in every partition with any
])
def test_enforcement_excludes_the_embedding_models_of_the_partition(region: str | None, excluded: list | None) -> None:
    stack = new_stack(region=region or "us-east-1", account=None, stack_id="Embeddings") if region else \
        cdk.Stack(cdk.App(), "Agnostic")
    g = BedrockGuardrail(stack, "G", name="g")
    props = Template.from_stack(stack).to_json()["Resources"][_logical_id(g.enforced_configuration)]["Properties"]
    assert props.get("ModelEnforcement") == (excluded and {"IncludedModels": ["ALL"], "ExcludedModels": excluded})
    assert g.enforcement_excluded_models == (excluded or [])


def test_enforcing_on_embedding_models_needs_a_reason_and_says_it() -> None:
    """Their calls then fail: a platform team may want that (no embeddings at all), in writing."""
    g = _guardrail(enforce_embedding_models_reason=EMBEDDINGS_BLOCKED, enforcement_excluded_models=["cohere.embed-v4:0"])
    body = Template.from_stack(cdk.Stack.of(g)).to_json()["Resources"][_logical_id(g.enforced_configuration)]
    assert body["Properties"]["ModelEnforcement"] == {"IncludedModels": ["ALL"], "ExcludedModels": ["cohere.embed-v4:0"]}
    assert body["Metadata"]["compliant-bedrock:embedding-models-enforced"] == EMBEDDINGS_BLOCKED


def test_enforcement_off_creates_neither_configuration_nor_resource_policy() -> None:
    stack = new_stack(stack_id="NotEnforced")
    g = BedrockGuardrail(stack, "G", name="g", enforce_account_level=False)
    body = Template.from_stack(stack).to_json()
    assert g.enforced_configuration is None and g.resource_policy is None
    assert not _of_type(body, ENFORCED) and not _of_type(body, "AWS::Bedrock::ResourcePolicy")


def test_grant_apply_uses_one_managed_policy(baseline: Built) -> None:
    gid = _logical_id(baseline.guardrails["main"].guardrail)
    assert not _of_type(baseline.json, "AWS::IAM::Policy")  # no inline policies
    pid, policy = _one(baseline.json, "AWS::IAM::ManagedPolicy")
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [{
        "Sid": "ApplyTheGuardrail", "Effect": "Allow", "Action": "bedrock:ApplyGuardrail",
        "Resource": {"Fn::GetAtt": [gid, "GuardrailArn"]},
    }]
    roles = _of_type(baseline.json, "AWS::IAM::Role")
    assert len(roles) == 2
    for role in roles.values():
        assert role["Properties"]["ManagedPolicyArns"] == [{"Ref": pid}]


def test_grant_apply_returns_the_policy_and_rejects_service_principals() -> None:
    stack = new_stack()
    g = BedrockGuardrail(stack, "G", name="g")
    user, group = iam.User(stack, "U"), iam.Group(stack, "Gr")
    first, second = g.grant_apply(user), g.grant_apply(group)
    assert first is second and isinstance(first, iam.ManagedPolicy)
    with pytest.raises(TypeError, match="grant_apply needs a role, user or group, got ServicePrincipal"):
        g.grant_apply(iam.ServicePrincipal("lambda.amazonaws.com"))


def _version_id(policy: GuardrailPolicy | None = None, **kwargs: Any) -> str:
    stack = new_stack()
    g = BedrockGuardrail(stack, "Guardrail", name=kwargs.pop("name", "federal-baseline"), policy=policy, **kwargs)
    return _logical_id(g.version_resource)


BASE = federal_baseline()
CHANGES: dict[str, tuple[GuardrailPolicy | None, dict[str, Any]]] = {
    "content strength": (replace(BASE, content_filters=(ContentFilter("HATE", input_strength="MEDIUM"),
                                                        *BASE.content_filters[1:])), {}),
    "content disabled": (replace(BASE, content_filters=(ContentFilter("HATE", output_enabled=False),
                                                        *BASE.content_filters[1:])), {}),
    "content removed": (replace(BASE, content_filters=BASE.content_filters[:-1]), {}),
    "image modality": (federal_baseline(image_filters=True), {}),
    "prompt attack strength": (replace(BASE, content_filters=(*BASE.content_filters[:-1],
                                                              ContentFilter.prompt_attack("LOW"))), {}),
    "pii action": (federal_baseline(pii_action="ANONYMIZE"), {}),
    "pii removed": (replace(BASE, pii_entities=BASE.pii_entities[1:]), {}),
    "regex pattern": (replace(BASE, regexes=(replace(BASE.regexes[0], pattern=r"\bTOP SECRET//"),
                                             *BASE.regexes[1:])), {}),
    "markings off": (federal_baseline(block_classification_markings=False), {}),
    "denied topic": (replace(BASE, denied_topics=(CUSTOM_TOPIC,)), {}),
    "words": (replace(BASE, word_policy=WordPolicy(words=("nightjar",), profanity=True)), {}),
    "profanity off": (federal_baseline(profanity=False), {}),
    "grounding": (replace(BASE, grounding_filters=rag_grounding()), {}),
    "grounding threshold": (replace(BASE, grounding_filters=rag_grounding(0.71)), {}),
    "tier": (None, {"tier": "STANDARD"}),
    "input message": (None, {"blocked_input_message": "No."}),
    "output message": (None, {"blocked_output_message": "No."}),
    "description": (None, {"description": "changed"}),
    "name": (None, {"name": "renamed"}),
}


def test_version_id_is_stable_for_the_same_configuration(baseline: Built) -> None:
    assert _version_id() == _version_id(federal_baseline()) == _logical_id(
        baseline.guardrails["main"].version_resource
    )


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_gives_a_new_version_resource(change: str) -> None:
    policy, kwargs = CHANGES[change]
    assert _version_id(policy, **kwargs) != _version_id()


def test_version_logical_ids_differ_in_synthesized_templates() -> None:
    """The same check through real templates: two stacks in one App."""
    a = new_stack(stack_id="A")
    b = cdk.Stack(a.node.root, "B", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
    BedrockGuardrail(a, "Guardrail", name="g")
    BedrockGuardrail(b, "Guardrail", name="g", policy=federal_baseline(pii_action="ANONYMIZE"))
    ids = [set(_of_type(Template.from_stack(s).to_json(), VERSION)) for s in (a, b)]
    assert len(ids[0]) == len(ids[1]) == 1 and ids[0] != ids[1]


# ------------------------------------------------------------------------------------------ options


def test_options_standard_tier_profile_and_topics(options: Built) -> None:
    props = options.props("custom")
    assert props["CrossRegionConfig"] == {
        "GuardrailProfileArn": f"arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail-profile/us.guardrail.v1:0"
    }
    assert props["ContentPolicyConfig"]["ContentFiltersTierConfig"] == {"TierName": "STANDARD"}
    assert props["TopicPolicyConfig"] == {
        "TopicsTierConfig": {"TierName": "STANDARD"},
        "TopicsConfig": [{
            "Name": "Weapons_Procurement", "Type": "DENY", "Definition": CUSTOM_TOPIC.definition,
            "Examples": list(CUSTOM_TOPIC.examples), "InputAction": "BLOCK", "OutputAction": "NONE",
            "InputEnabled": True, "OutputEnabled": True,
        }],
    }


def test_options_content_pii_regex_words_grounding(options: Built) -> None:
    props = options.props("custom")
    assert props["ContentPolicyConfig"]["FiltersConfig"] == [
        {"Type": "HATE", "InputStrength": "MEDIUM", "OutputStrength": "LOW", "InputAction": "BLOCK",
         "OutputAction": "NONE", "InputEnabled": True, "OutputEnabled": False,
         "InputModalities": ["TEXT", "IMAGE"], "OutputModalities": ["TEXT"]},
        {"Type": "PROMPT_ATTACK", "InputStrength": "MEDIUM", "OutputStrength": "NONE", "InputAction": "BLOCK",
         "InputEnabled": True, "InputModalities": ["TEXT"]},
    ]
    assert props["SensitiveInformationPolicyConfig"] == {
        "PiiEntitiesConfig": [{"Type": "EMAIL", "Action": "ANONYMIZE", "InputAction": "NONE",
                               "OutputAction": "ANONYMIZE", "InputEnabled": True, "OutputEnabled": True}],
        "RegexesConfig": [{"Name": "CaseNumber", "Pattern": "CASE-[0-9]{6}", "Description": "Internal case ids",
                           "Action": "ANONYMIZE", "InputAction": "ANONYMIZE", "OutputAction": "ANONYMIZE",
                           "InputEnabled": True, "OutputEnabled": True}],
    }
    directions = {"InputAction": "BLOCK", "OutputAction": "NONE", "InputEnabled": True, "OutputEnabled": True}
    assert props["WordPolicyConfig"] == {
        "WordsConfig": [{"Text": "Project Nightjar", **directions}],
        "ManagedWordListsConfig": [{"Type": "PROFANITY", **directions}],
    }
    assert props["ContextualGroundingPolicyConfig"] == {"FiltersConfig": [
        {"Type": "GROUNDING", "Threshold": 0.8, "Action": "BLOCK", "Enabled": True},
        {"Type": "RELEVANCE", "Threshold": 0.6, "Action": "BLOCK", "Enabled": True},
    ]}
    assert (props["BlockedInputMessaging"], props["BlockedOutputsMessaging"]) == ("Blocked.", "Withheld.")
    assert props["Description"] == "RAG assistant guardrail"


def test_options_own_key_is_used_and_no_key_created(options: Built) -> None:
    own_id = _logical_id(options.own_key.node.default_child)  # type: ignore[attr-defined]
    assert options.props("custom")["KmsKeyArn"] == {"Fn::GetAtt": [own_id, "Arn"]}
    keys = _of_type(options.json, "AWS::KMS::Key")
    assert len(keys) == 2  # the own key and the anonymize guardrail's key: none made for "custom"
    sids = {s.get("Sid") for s in keys[own_id]["Properties"]["KeyPolicy"]["Statement"]}
    assert "AllowBedrockGuardrailUseByThisAccount" in sids


def test_options_account_level_enforcement(options: Built) -> None:
    g = options.guardrails["custom"]
    _, enforced = _one(options.json, ENFORCED)
    assert enforced["Properties"] == {
        "GuardrailIdentifier": {"Fn::GetAtt": [_logical_id(g.guardrail), "GuardrailId"]},
        "GuardrailVersion": {"Fn::GetAtt": [_logical_id(g.version_resource), "Version"]},
        # The caller's models add to the embedding models (listed once), never replace them.
        "ModelEnforcement": {"IncludedModels": ["ALL"], "ExcludedModels": [
            *AWS_EMBEDDING_MODELS, "amazon.nova-2-multimodal-embeddings-v1:0"]},
        "SelectiveContentGuarding": {"Messages": "COMPREHENSIVE", "System": "COMPREHENSIVE"},
    }


def test_options_anonymize_preset_without_markings(options: Built) -> None:
    props = options.props("anonymize")
    pii = {p["Type"]: p for p in props["SensitiveInformationPolicyConfig"]["PiiEntitiesConfig"]}
    for t in US_PII_TYPES:
        assert (pii[t]["Action"], pii[t]["InputAction"], pii[t]["OutputAction"]) == ("ANONYMIZE",) * 3
    for t in CREDENTIAL_TYPES:
        assert (pii[t]["Action"], pii[t]["InputAction"], pii[t]["OutputAction"]) == ("BLOCK",) * 3
    assert "RegexesConfig" not in props["SensitiveInformationPolicyConfig"]
    assert "WordPolicyConfig" not in props
    filters = {f["Type"]: f for f in props["ContentPolicyConfig"]["FiltersConfig"]}
    assert filters["MISCONDUCT"]["InputModalities"] == ["TEXT", "IMAGE"]
    assert filters["MISCONDUCT"]["OutputModalities"] == ["TEXT", "IMAGE"]
    assert filters["PROMPT_ATTACK"]["InputModalities"] == ["TEXT"]


# ------------------------------------------------------------------------------------------ partitions


def test_standard_tier_profile_in_govcloud(govcloud: Built) -> None:
    assert govcloud.props("main")["CrossRegionConfig"] == {
        "GuardrailProfileArn": f"arn:aws-us-gov:bedrock:us-gov-west-1:{ACCOUNT}:guardrail-profile/us-gov.guardrail.v1:0"
    }
    _, key = _one(govcloud.json, "AWS::KMS::Key")
    assert "arn:aws:" not in str(govcloud.json)
    assert key["Properties"]["KeyPolicy"]["Statement"][0]["Principal"] == {"AWS": f"arn:aws-us-gov:iam::{ACCOUNT}:root"}


@pytest.mark.parametrize(("region", "profile"), [
    ("us-east-1", "us.guardrail.v1:0"), ("us-west-2", "us.guardrail.v1:0"),
    ("us-gov-west-1", "us-gov.guardrail.v1:0"), ("us-gov-east-1", "us-gov.guardrail.v1:0"),
    ("eu-central-1", "eu.guardrail.v1:0"), ("ap-northeast-1", "apac.guardrail.v1:0"),
])
def test_profile_by_region(region: str, profile: str) -> None:
    assert guardrail_profile_for_region(region) == profile


@pytest.mark.parametrize("region", ["us-iso-east-1", "us-isob-east-1", "cn-north-1", "sa-east-1", "ca-central-1"])
def test_no_profile_outside_known_geographies(region: str) -> None:
    with pytest.raises(ValueError, match=rf"none is known for '{region}'"):
        guardrail_profile_for_region(region)


def test_sources_carry_no_literal_partition() -> None:
    for module in (guardrail_module, guardrail_presets):
        source = Path(module.__file__).read_text()
        assert "arn:aws:" not in source and "arn:aws-" not in source, module.__name__


# ------------------------------------------------------------------------------------------ cdk-nag


def _nag_errors(stack: cdk.Stack) -> list[Any]:
    cdk.Aspects.of(stack).add(NIST80053R5Checks())
    annotations = Annotations.from_stack(stack)
    # A rule that threw is only a warning in cdk-nag; it has not passed either.
    return [*annotations.find_error("*", Match.string_like_regexp(".*")),
            *annotations.find_warning("*", Match.string_like_regexp("CdkNagValidationFailure.*"))]


def test_nist_80053_r5_has_no_errors_on_the_guardrail() -> None:
    stack = new_stack(stack_id="NagGuardrail")
    g = BedrockGuardrail(stack, "Guardrail", name="federal-baseline", enforce_account_level=True)
    g.grant_apply(iam.Role(stack, "App", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com")))
    errors = _nag_errors(stack)
    assert errors == [], [(e.id, e.entry.data) for e in errors]


def test_nag_harness_does_report_errors() -> None:
    """Control: the same harness flags a key without rotation, so an empty result above means something."""
    stack = new_stack(stack_id="NagControl")
    kms.Key(stack, "Unrotated", enable_key_rotation=False)
    assert any("KMSBackingKeyRotationEnabled" in str(e.entry.data) for e in _nag_errors(stack))


# ---------------------------------------------------------------------------------- preset regexes


MARKING_SAMPLES = {
    "ClassificationBanner": (
        ["TOP SECRET//SCI//NOFORN", "SECRET//NOFORN", "CONFIDENTIAL//REL TO USA, FVEY", "SECRET // NOFORN",
         "header: TOP SECRET//HCS-P//ORCON\nbody"],
        ["top secret//sci", "The secret to success", "SECRET SAUCE", "CONFIDENTIAL: internal only",
         "SECRETARY//memo", "TOP SECRET", "https://example.com//path"],
    ),
    "ClassificationPortionMarking": (
        ["(TS//SI//NF) The source reported", "(S//NF) text", "(C//REL TO USA, GBR)", "(TS) The source reported",
         "(S) Paragraph text", "intro\n(S) second paragraph"],
        ["(C) 2025 Example Corp", "item(s) listed", "(U) unclassified", "(s//nf)", "see note(S).", "(SA) sample"],
    ),
    "CuiMarking": (
        ["CUI//SP-PRVCY", "(CUI//SP-CTI) portion", "CUI // NOFORN", "CUI//FEDCON"],
        ["Controlled Unclassified Information (CUI) is a category", "the CUI program", "cui//sp-prvcy",
         "PCUI//X"],
    ),
}


@pytest.mark.parametrize("regex", CLASSIFICATION_MARKING_REGEXES, ids=lambda r: r.name)
def test_marking_regexes(regex: RegexFilter) -> None:
    positives, negatives = MARKING_SAMPLES[regex.name]
    compiled = re.compile(regex.pattern)
    for text in positives:
        assert compiled.search(text), f"{regex.name} misses {text!r}"
    for text in negatives:
        assert not compiled.search(text), f"{regex.name} matches {text!r}"
    assert "(?<" not in regex.pattern and "\\1" not in regex.pattern  # portable: no lookbehind/backrefs


def test_preset_shape_and_extension() -> None:
    policy = federal_baseline()
    assert policy.grounding_filters == () and policy.denied_topics == ()
    assert len(policy.regexes) == 3
    assert federal_baseline(block_classification_markings=False).regexes == ()
    extended = replace(policy, denied_topics=(CUSTOM_TOPIC,), grounding_filters=rag_grounding())
    assert extended.content_filters == policy.content_filters and len(extended.denied_topics) == 1
    assert [g.type for g in rag_grounding()] == ["GROUNDING", "RELEVANCE"]


# ---------------------------------------------------------------------------------- validation errors


def _guardrail(**kwargs: Any) -> BedrockGuardrail:
    stack = new_stack(region=kwargs.pop("region", "us-east-1"))
    return BedrockGuardrail(stack, "G", **{"name": "g", **kwargs})


def _topics(n: int) -> tuple[DeniedTopic, ...]:
    return tuple(DeniedTopic(f"Topic {i}", "A topic.") for i in range(n))


def _regexes(n: int) -> tuple[RegexFilter, ...]:
    return tuple(RegexFilter(f"R{i}", f"X{i}") for i in range(n))


ERRORS: dict[str, tuple[Any, str]] = {
    "name pattern": (lambda: _guardrail(name="bad name!"),
                     r"name: 'bad name!' is not allowed; allowed: 1-50 characters .*\^\[0-9a-zA-Z-_\]\{1,50\}\$"),
    "name length": (lambda: _guardrail(name="x" * 51), r"name: 'x{51}' is not allowed"),
    "input message empty": (lambda: _guardrail(blocked_input_message=""),
                            r"blocked_input_message: '' \(0 characters\) must be a string of 1 to 500 characters"),
    "output message long": (lambda: _guardrail(blocked_output_message="m" * 501),
                            r"blocked_output_message: .*\(501 characters\) must be a string of 1 to 500"),
    "description long": (lambda: _guardrail(description="d" * 201), r"description: .* of 1 to 200 characters"),
    "tier": (lambda: _guardrail(tier="PREMIUM"), r"tier: 'PREMIUM' is not allowed; allowed: CLASSIC, STANDARD"),
    "standard in iso": (lambda: _guardrail(tier="STANDARD", region="us-iso-east-1"),
                        r"tier: 'STANDARD' needs a cross-region guardrail profile, and none is known for "
                        r"'us-iso-east-1'"),
    "standard env-agnostic": (lambda: BedrockGuardrail(cdk.Stack(cdk.App(), "S"), "G", name="g", tier="STANDARD"),
                              r"none is known for an unresolved region"),
    "profile id pattern": (lambda: _guardrail(tier="STANDARD", guardrail_profile_id="us-guardrail"),
                           r"guardrail_profile_id: 'us-guardrail' is not allowed; allowed: <geo>.guardrail"),
    "profile id with classic": (lambda: _guardrail(guardrail_profile_id="us.guardrail.v1:0"),
                                r"guardrail_profile_id: 'us.guardrail.v1:0' is only used with tier 'STANDARD'"),
    "empty policy": (lambda: _guardrail(policy=GuardrailPolicy()), r"policy: the policy has no filters at all"),
    "31 topics": (lambda: GuardrailPolicy(denied_topics=_topics(31)),
                  r"denied_topics: 31 topics is too many; allowed: at most 30"),
    "11 regexes": (lambda: replace(BASE, regexes=_regexes(11)),
                   r"regexes: 11 regexes is too many; allowed: at most 10 \(the CloudFormation/CreateGuardrail limit"),
    "topic name": (lambda: DeniedTopic("bad/name", "x"), r"DeniedTopic.name: 'bad/name' is not allowed"),
    "topic definition": (lambda: DeniedTopic("T", "d" * 201),
                         r"DeniedTopic\(T\).definition: .*\(201 characters\) must be a string of 1 to 200"),
    "topic examples count": (lambda: DeniedTopic("T", "d", examples=("e",) * 6),
                             r"examples: 6 examples is too many; allowed: at most 5"),
    "topic example length": (lambda: DeniedTopic("T", "d", examples=("e" * 101,)),
                             r"examples: .*\(101 characters\) must be a string of 1 to 100"),
    "grounding 1": (lambda: GroundingFilter("GROUNDING", 1.0),
                    r"GroundingFilter\(GROUNDING\).threshold: 1.0 is out of range; allowed: 0 to 0.99"),
    "grounding negative": (lambda: GroundingFilter("RELEVANCE", -0.1), r"threshold: -0.1 is out of range"),
    "grounding type": (lambda: GroundingFilter("TRUTH", 0.5), r"GroundingFilter.type: 'TRUTH' is not allowed"),
    "image on prompt attack": (lambda: ContentFilter("PROMPT_ATTACK", output_strength="NONE",
                                                     input_modalities=("TEXT", "IMAGE")),
                               r"ContentFilter\(PROMPT_ATTACK\).input_modalities: 'IMAGE' is not allowed; "
                               r"allowed: TEXT$"),
    "unknown modality": (lambda: ContentFilter("HATE", output_modalities=("VIDEO",)),
                         r"output_modalities: 'VIDEO' is not allowed; allowed: TEXT, IMAGE"),
    "no modality": (lambda: ContentFilter("HATE", input_modalities=()), r"input_modalities: \[\] must hold 1 or 2"),
    "prompt attack output": (lambda: ContentFilter("PROMPT_ATTACK"),
                             r"PROMPT_ATTACK\).output_strength: 'HIGH' is not allowed; allowed: NONE"),
    "strength": (lambda: ContentFilter("HATE", input_strength="EXTREME"),
                 r"input_strength: 'EXTREME' is not allowed; allowed: NONE, LOW, MEDIUM, HIGH"),
    "content type": (lambda: ContentFilter("SPAM"), r"ContentFilter.type: 'SPAM' is not allowed"),
    "duplicate content": (lambda: GuardrailPolicy(content_filters=(ContentFilter("HATE"), ContentFilter("HATE"))),
                          r"content_filters: duplicate HATE; allowed: each at most once"),
    "duplicate pii": (lambda: replace(BASE, pii_entities=(*BASE.pii_entities, PiiEntity("US_SOCIAL_SECURITY_NUMBER"))),
                      r"pii_entities: duplicate US_SOCIAL_SECURITY_NUMBER; allowed: each at most once"),
    "pii type": (lambda: PiiEntity("SSN"), r"PiiEntity.type: 'SSN' is not allowed; allowed: ADDRESS, AGE, "),
    "pii action": (lambda: PiiEntity("EMAIL", action="MASK"),
                   r"PiiEntity\(EMAIL\).action: 'MASK' is not allowed; allowed: BLOCK, ANONYMIZE, NONE"),
    "regex syntax": (lambda: RegexFilter("R", "(unclosed"), r"RegexFilter\(R\).pattern: '\(unclosed' is not a valid"),
    "regex lookbehind": (lambda: RegexFilter("R", r"(?<=x)y"), r"uses lookbehind"),
    "regex name": (lambda: RegexFilter("", "x"), r"RegexFilter.name: '' \(0 characters\) must be a string of 1 to 100"),
    "duplicate regex": (lambda: GuardrailPolicy(regexes=(RegexFilter("R", "a"), RegexFilter("R", "b"))),
                        r"regexes \(names\): duplicate R"),
    "empty word policy": (lambda: WordPolicy(), r"WordPolicy: no words and profanity=False"),
    "duplicate words": (lambda: WordPolicy(words=("a", "a")), r"WordPolicy.words: duplicate words \['a'\]"),
    "word length": (lambda: WordPolicy(words=("w" * 101,)), r"WordPolicy.words: .*must be a string of 1 to 100"),
    "preset pii action": (lambda: federal_baseline(pii_action="NONE"),  # type: ignore[arg-type]
                          r"pii_action: 'NONE' is not allowed; allowed: BLOCK, ANONYMIZE"),
    "included without enforcement": (lambda: _guardrail(enforce_account_level=False,
                                                        enforcement_included_models=["openai.gpt-oss-120b-1:0"]),
                                     r"enforcement_included_models needs enforce_account_level=True"),
    "ALL with model ids": (lambda: _guardrail(enforcement_included_models=["ALL", "openai.gpt-oss-120b-1:0"]),
                           r"never ALL together with model ids"),
    "included model id": (lambda: _guardrail(enforcement_included_models=["Bad Model"]),
                          r"enforcement_included_models: 'Bad Model' is not allowed"),
    "excluded without enforcement": (lambda: _guardrail(enforce_account_level=False,
                                                        enforcement_excluded_models=["amazon.titan-embed-text-v2:0"]),
                                     r"enforcement_excluded_models needs enforce_account_level=True"),
    "excluded model id": (lambda: _guardrail(enforce_account_level=True, enforcement_excluded_models=["Bad Model"]),
                          r"enforcement_excluded_models: 'Bad Model' is not allowed"),
    "embedding enforcement without reason": (
        lambda: _guardrail(enforce_embedding_models_reason="we want that"),
        r"enforce_embedding_models_reason: 'we want that'; enforcing the guardrail on embedding models makes every "
        r"embedding call fail"),
    "embedding enforcement without enforcement": (
        lambda: _guardrail(enforce_account_level=False, enforce_embedding_models_reason=EMBEDDINGS_BLOCKED),
        r"enforce_embedding_models_reason needs enforce_account_level=True"),
    "alias key": (lambda: (lambda s: BedrockGuardrail(s, "G", name="g", kms_key=kms.Alias.from_alias_name(
        s, "A", "alias/guardrail")))(new_stack()), r"kms_key: 'alias/guardrail' is an alias; allowed: a key"),
    "policy type": (lambda: _guardrail(policy={"content_filters": []}), r"policy: .* is not a GuardrailPolicy"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_invalid_props_raise_clear_errors(case: str) -> None:
    build, message = ERRORS[case]
    with pytest.raises(ValueError, match=message):
        build()


def test_valid_edge_values_are_accepted() -> None:
    GroundingFilter("GROUNDING", 0.99)
    GroundingFilter("RELEVANCE", 0)
    DeniedTopic("T" * 100, "d" * 200, examples=("e" * 100,) * 5)
    GuardrailPolicy(denied_topics=_topics(30), regexes=_regexes(10))
    ContentFilter("MISCONDUCT", input_modalities=["IMAGE", "TEXT"])  # lists become tuples
    assert _guardrail(name="A-b_9" + "x" * 45, blocked_input_message="m" * 500).guardrail is not None
    assert _guardrail(tier="STANDARD", region="eu-west-1", guardrail_profile_id="eu.guardrail.v1:0") is not None


def test_standard_tier_grants_apply_on_the_profile_in_every_destination_region() -> None:
    """AWS: cross-region guardrail calls need ApplyGuardrail on the guardrail-profile ARN of each destination
    region; naming only the guardrail would deny every guarded call."""
    for region, geography, destinations in (
        ("us-east-1", "us", ["us-east-1", "us-east-2", "us-west-1", "us-west-2"]),
        ("us-gov-west-1", "us-gov", ["us-gov-west-1", "us-gov-east-1"]),
    ):
        stack = new_stack(region=region, stack_id=f"Standard{geography.replace('-', '')}")
        guardrail = BedrockGuardrail(stack, "Guardrail", name="standard", tier="STANDARD")
        partition = "aws-us-gov" if geography == "us-gov" else "aws"
        profiles = {f"arn:{partition}:bedrock:{r}:{ACCOUNT}:guardrail-profile/{geography}.guardrail.v1:0"
                    for r in destinations}
        assert set(stack.resolve(guardrail.profile_arns)) == profiles
        role = iam.Role(stack, "App", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
        policy = guardrail.grant_apply(role)
        (statement,) = stack.resolve(policy.document.to_json())["Statement"]
        assert statement["Action"] == "bedrock:ApplyGuardrail"
        assert statement["Resource"][0] == {"Fn::GetAtt": [stack.resolve(guardrail.guardrail.logical_id), "GuardrailArn"]}
        assert set(statement["Resource"][1:]) == profiles
    classic = BedrockGuardrail(new_stack(stack_id="Classic"), "Guardrail", name="classic")
    assert classic.profile_arns == [] and len(classic.resource_arns) == 1


def test_an_imported_key_change_publishes_a_new_version() -> None:
    """Two imported keys under the same construct id: the ARN, not the path, must reach the version hash."""
    hashes = []
    for n, key_id in enumerate(("1111aaaa-1111-1111-1111-111111111111", "2222bbbb-2222-2222-2222-222222222222")):
        stack = new_stack(stack_id=f"ImportedKey{n}")
        key = kms.Key.from_key_arn(stack, "Key", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key_id}")
        hashes.append(BedrockGuardrail(stack, "Guardrail", name="imported", kms_key=key).config_hash)
    assert hashes[0] != hashes[1]
