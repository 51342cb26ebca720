"""The rule modules of the Bedrock pack, named explicitly: the pack is what this list holds, in its order.

A rule is a function declared with ``@rule`` in one of these modules; adding a module means adding it
here (importing a module registers nothing by itself).
"""

from . import audit, condition_keys, endpoints, guardrails, iam, one_per_account, organization

MODULES = (endpoints, iam, guardrails, audit, one_per_account, organization, condition_keys)
