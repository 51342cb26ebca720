"""What each AWS partition offers the organization layer, as cited data (never assumed).

An organization lives in one partition, and AWS GovCloud (US) and the ISO partitions do not offer
everything the commercial partition does, or do not document it. A policy type AWS does not accept
fails ``cdk deploy`` in the management account (``PolicyTypeNotAvailableForOrganizationException``);
worse, a feature assumed to exist leaves evidence that claims a control no deployment can have. So
each feature the organization stack uses is looked up here per partition:

* ``True``: AWS documents it there (source quoted);
* ``False``: AWS documents that it is not there;
* ``None``: no AWS text says either way (as of the sources' dates): refused at synth like ``False``
  unless the organization's config records how the team verified it in its own organization
  (``verified_features``, docs/organization.md, "Organizations in two partitions").

Sources were read from stored copies (December 2026); where only AWS-generated data (the CloudFormation
registry's per-region resource types, botocore's endpoints) shows a fact, the confidence says so.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Support:
    """Whether a partition has a feature, and where that is written."""

    available: bool | None
    source: str
    #: H: AWS text read directly; M: AWS-generated data or older AWS text; L: inference.
    confidence: str = "H"


_ORGS_REGIONS = "https://docs.aws.amazon.com/organizations/latest/userguide/region-support.html"
_GOV_ORGS_BLOG = ("https://aws.amazon.com/blogs/security/aws-organizations-available-govcloud-regions-central-"
                  "governance-management-accounts/ (\"Define organization-wide permission guardrails ... using service "
                  "control policies (SCPs)\")")
_NOT_FOUND_GOV = ("no AWS text found on its availability in AWS GovCloud (US) (GovCloud User Guide 'govcloud-"
                  "organizations', Organizations User Guide policy-type pages; the CloudFormation schema of "
                  "AWS::Organizations::Policy lists the type in every region, which says nothing about the service)")

#: feature -> partition -> Support. Partitions not listed (aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-cn) are
#: not documented for any feature here: an organization there must verify each one.
FEATURES: dict[str, dict[str, Support]] = {
    "service_control_policies": {
        "aws": Support(True, "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html"),
        "aws-us-gov": Support(True, _GOV_ORGS_BLOG),
    },
    "resource_control_policies": {
        "aws": Support(True, "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html"),
        "aws-us-gov": Support(None, f"RCPs: {_NOT_FOUND_GOV}", "L"),
    },
    "bedrock_policy": {
        "aws": Support(True, "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_bedrock.html"),
        "aws-us-gov": Support(None, f"BEDROCK_POLICY: {_NOT_FOUND_GOV}", "L"),
    },
    "organization_trail": {
        "aws": Support(True, "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/creating-trail-organization.html"),
        # "To log events in all AWS partitions in your organization, create a multi-Region organization trail in
        # each partition"; AWS Control Tower, whose landing zone has an organization trail, runs in GovCloud.
        "aws-us-gov": Support(True, "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/creating-trail-"
                                    "organization.html (\"create a multi-Region organization trail in each partition\"); "
                                    "https://docs.aws.amazon.com/govcloud-us/latest/UserGuide/govcloud-controltower.html",
                              "M"),
    },
    "service_managed_stacksets": {
        "aws": Support(True, "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-activate-"
                             "trusted-access.html"),
        # Trusted access "isn't currently supported in the China Beijing and Ningxia Regions": the only exception.
        "aws-us-gov": Support(True, "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-"
                                    "prereqs.html (only the China regions are excluded)", "M"),
    },
}

#: Where IAM, a global service, delivers its CloudTrail events to EventBridge (the only region whose rules see
#: CreateServiceSpecificCredential). aws: "The default event bus for the us-east-1 Region receives all events that
#: the global services generate" (https://repost.aws/knowledge-center/eventbridge-rule-triggers-iam-single-region).
#: aws-us-gov: IAM's only endpoint, iam.us-gov.amazonaws.com, signs in us-gov-west-1 (botocore endpoints.json);
#: no AWS sentence names the EventBridge region (M).
IAM_EVENTS_REGION: dict[str, str] = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1"}

#: Partitions with a bedrock-mantle endpoint (``models.MANTLE_REGIONS``; in aws-us-gov only us-gov-west-1 has
#: AWS::BedrockMantle::Project, CloudFormation registry 2026-06-15, M): a trail there selects Mantle data events
#: whether or not the account uses Mantle (denied attempts are evidence too).
MANTLE_PARTITIONS: frozenset[str] = frozenset({"aws", "aws-us-gov"})


#: Partitions whose EventBridge documents Scheduler (``AWS::Scheduler::Schedule``). aws: the EventBridge feature table
#: (https://docs.aws.amazon.com/eventbridge/latest/userguide/feature-availability.html) ticks Scheduler in every
#: commercial region. aws-us-gov: an earlier GovCloud User Guide page said "EventBridge scheduler is not available in
#: AWS GovCloud (US)" and the current one (govcloud-eventbridge.html) is silent (L): where Scheduler is not
#: documented, a schedule is an EventBridge scheduled rule, which every partition's EventBridge has.
SCHEDULER_PARTITIONS: frozenset[str] = frozenset({"aws"})


def support(feature: str, partition: str) -> Support:
    """The cited availability of ``feature`` in ``partition`` (not documented: ``None``)."""
    return FEATURES[feature].get(partition, Support(None, f"no AWS text found for partition {partition}", "L"))


def partition_has_mantle(partition: str) -> bool:
    return partition in MANTLE_PARTITIONS
