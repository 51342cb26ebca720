"""CloudWatch log groups for audit data: KMS-encrypted, with explicit retention, kept on destroy."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .errors import ConstructPropsError

#: The retention values CloudWatch Logs accepts, in days.
RETENTION_DAYS: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY, 3: logs.RetentionDays.THREE_DAYS, 5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK, 14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS, 90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS, 150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS, 365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS, 545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS, 1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS, 2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS, 2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS, 3653: logs.RetentionDays.TEN_YEARS,
}


def retention(days: int, where: str = "log retention") -> logs.RetentionDays:
    """Map a day count to CloudWatch's enum, or raise naming ``where`` and the values CloudWatch accepts."""
    try:
        return RETENTION_DAYS[days]
    except KeyError:
        raise ConstructPropsError(
            f"{where}: {days!r} days is not a CloudWatch Logs value; use one of "
            f"{', '.join(str(d) for d in RETENTION_DAYS)}"
        ) from None


def encrypted_log_group(scope: Construct, construct_id: str, *, key: kms.IKey, retention_days: int,
                        log_group_name: str | None = None, retention_prop: str = "log_retention_days") -> logs.LogGroup:
    """A log group that meets CloudWatchLogGroupEncrypted and CloudWatchLogGroupRetentionPeriod (AU-11, SC-28).

    ``key``: the KMS key that encrypts the events (its policy must admit CloudWatch Logs: ``allow_cloudwatch_logs``).
    ``log_group_name``: a fixed name (default: CloudFormation's). ``retention_prop``: the caller's prop that set
    ``retention_days``, named when the value is refused.
    """
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=log_group_name,
        encryption_key=key,
        retention=retention(retention_days, f"{type(scope).__name__} {scope.node.id!r}: {retention_prop}"),
        removal_policy=RemovalPolicy.RETAIN,
    )
