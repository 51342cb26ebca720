"""ARNs of Bedrock resources, built from the stack's partition, region and account.

Never write a partition into an ARN by hand: the same code must synthesize for ``aws``, ``aws-us-gov`` and
``aws-iso*``. ``Stack.format_arn`` takes the partition from the stack (a literal when the region is
known and ``@aws-cdk/core:enablePartitionLiterals`` is on, ``AWS::Partition`` otherwise).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack, Token

from .compliance.rules.audit import IAM_EVENT_REGIONS
from .models import ModelRoute, ModelRouteKind


def iam_event_region(partition: str) -> str | None:
    """The one region of ``partition`` where IAM's CloudTrail events reach EventBridge (IAM is global), or None
    for a partition where it is not known."""
    return IAM_EVENT_REGIONS.get(partition)


def stack_partition(stack: Stack) -> str | None:
    """The stack's partition as a literal: the stack's own (partition literals on), else its region's from
    aws-cdk-lib's region facts; None for an env-agnostic stack or a region those facts do not know."""
    if not Token.is_unresolved(stack.partition):
        return stack.partition
    if Token.is_unresolved(stack.region):
        return None
    from aws_cdk.region_info import RegionInfo

    return RegionInfo.get(stack.region).partition


def _bedrock_arn(stack: Stack, resource: str, name: str, *, region: str | None, account: str | None,
                 service: str = "bedrock") -> str:
    return stack.format_arn(
        service=service,
        resource=resource,
        resource_name=name,
        region=stack.region if region is None else region,
        account=stack.account if account is None else account,
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def foundation_model_arn(stack: Stack, model_id: str, region: str | None = None) -> str:
    """``arn:<p>:bedrock:<region>::foundation-model/<id>``: foundation models have no account."""
    return _bedrock_arn(stack, "foundation-model", model_id, region=region, account="")


def regionless_foundation_model_arn(stack: Stack, model_id: str) -> str:
    """``arn:<p>:bedrock:::foundation-model/<id>``: what ``global.`` profiles are authorized on."""
    return _bedrock_arn(stack, "foundation-model", model_id, region="", account="")


def inference_profile_arn(stack: Stack, profile_id: str) -> str:
    """``arn:<p>:bedrock:<region>:<account>:inference-profile/<geo>.<id>``."""
    return _bedrock_arn(stack, "inference-profile", profile_id, region=None, account=None)


def mantle_project_arn(stack: Stack, project: str) -> str:
    """``arn:<p>:bedrock-mantle:<region>:<account>:project/<id>`` (an ``AWS::BedrockMantle::Project``'s
    ``Arn`` attribute is the better source: the id is assigned at creation)."""
    return _bedrock_arn(stack, "project", project, region=None, account=None, service="bedrock-mantle")


def runtime_project_arn(stack: Stack, project: str = "default") -> str:
    """``arn:<p>:bedrock:<region>:<account>:project/<name>``: what runtime Responses and Chat Completions
    authorize ``bedrock:InvokeModel`` on, besides the model (only ``default`` exists on bedrock-runtime)."""
    return _bedrock_arn(stack, "project", project, region=None, account=None)


def every_runtime_project_arn(stack: Stack) -> str:
    """``arn:<p>:bedrock:*:<account>:project/*``: for Denies of the OpenAI-compatible runtime APIs in any region."""
    return _bedrock_arn(stack, "project", "*", region="*", account=None)


def route_arns(stack: Stack, route: ModelRoute) -> tuple[list[str], list[str]]:
    """``(named, destinations)`` of a route: the ARN the caller names (in-region foundation model or the
    profile) and, for a profile, the foundation models it routes to (and the region-less one for ``global.``),
    which IAM should allow only through that profile (``bedrock:InferenceProfileArn``)."""
    if route.kind is ModelRouteKind.FOUNDATION_MODEL:
        return [foundation_model_arn(stack, route.model_id)], []
    destinations = [foundation_model_arn(stack, route.foundation_model_id, r) for r in route.destination_regions]
    if route.kind is ModelRouteKind.GLOBAL_INFERENCE_PROFILE:
        destinations.append(regionless_foundation_model_arn(stack, route.foundation_model_id))
    return [inference_profile_arn(stack, route.model_id)], destinations


def model_arns(stack: Stack, route: ModelRoute) -> list[str]:
    """Every ARN an invoke of ``route`` is authorized against, in a stable order.

    A cross-region profile is authorized on the profile *and* on the foundation model in each
    destination region; a ``global.`` profile also on the region-less foundation-model ARN.
    """
    if route.kind is ModelRouteKind.FOUNDATION_MODEL:
        return [foundation_model_arn(stack, route.model_id)]
    arns = [inference_profile_arn(stack, route.model_id)]
    arns += [foundation_model_arn(stack, route.foundation_model_id, r) for r in route.destination_regions]
    if route.kind is ModelRouteKind.GLOBAL_INFERENCE_PROFILE:
        arns.append(regionless_foundation_model_arn(stack, route.foundation_model_id))
    return arns
