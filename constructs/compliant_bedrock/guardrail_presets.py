"""Guardrail policies to start from. Take one as is, or extend it with ``dataclasses.replace``::

    from dataclasses import replace
    from compliant_bedrock.guardrail import DeniedTopic
    from compliant_bedrock.guardrail_presets import federal_baseline

    base = federal_baseline(pii_action="ANONYMIZE")
    policy = replace(base, denied_topics=(*base.denied_topics, DeniedTopic("Legal_Advice", "...")))

Each choice names the NIST SP 800-53 rev 5 control it serves, so a reviewer can trace it.
"""

from __future__ import annotations

from typing import Literal

from .errors import ConstructPropsError
from .guardrail_policy import ContentFilter, GroundingFilter, GuardrailPolicy, PiiEntity, RegexFilter, WordPolicy

#: Harm categories filtered on prompts (SI-10) and answers (SI-15) at HIGH, the strictest strength.
HARM_CATEGORIES: tuple[str, ...] = ("HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT")

#: US identifiers whose disclosure harms the individual (SI-12(1) limit PII elements, SI-15, AC-4):
#: blocked or anonymized per ``pii_action``. NAME, ADDRESS, EMAIL and PHONE are left out on purpose:
#: most federal workloads handle them legitimately, and blocking them would make the assistant
#: unusable. Add them (``PiiEntity("EMAIL", "ANONYMIZE")``) where the system's PTA says so.
US_PII_TYPES: tuple[str, ...] = (
    "US_SOCIAL_SECURITY_NUMBER",
    "US_PASSPORT_NUMBER",
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
    "US_BANK_ACCOUNT_NUMBER",
    "US_BANK_ROUTING_NUMBER",
    "DRIVER_ID",
    "CREDIT_DEBIT_CARD_NUMBER",
    "CREDIT_DEBIT_CARD_CVV",
    "CREDIT_DEBIT_CARD_EXPIRY",
    "PIN",
)

#: Authenticators are always blocked, whatever ``pii_action`` says (IA-5(6) protect authenticators,
#: SC-28): masking a leaked secret key in an answer does not un-leak it, and a prompt carrying one must
#: not reach the model or the invocation logs.
CREDENTIAL_TYPES: tuple[str, ...] = ("AWS_ACCESS_KEY", "AWS_SECRET_KEY", "PASSWORD")

#: Classification and CUI markings (CAPCO banner and portion marks, CUI registry banners). A prompt or
#: answer carrying one is a possible spill into a system not authorized for it: block it both ways
#: (AC-4 information flow enforcement, IR-9 information spillage response, SI-15). The patterns are
#: case-sensitive (markings are upper case by rule), need the ``//`` separator (or, for the collateral
#: portion marks (TS) and (S), a paragraph position) so prose such as "top secret", "(C) 2025" or
#: "Controlled Unclassified Information (CUI)" passes, and use only
#: constructs every regex engine has (no lookbehind, no backreferences).
CLASSIFICATION_MARKING_REGEXES: tuple[RegexFilter, ...] = (
    RegexFilter(
        name="ClassificationBanner",
        pattern=r"\b(TOP SECRET|SECRET|CONFIDENTIAL) ?// ?[A-Z]",
        description="Classification banner with control markings, e.g. TOP SECRET//SCI, SECRET//NOFORN, "
                    "CONFIDENTIAL//REL TO USA (AC-4, IR-9).",
    ),
    RegexFilter(
        name="ClassificationPortionMarking",
        pattern=r"\((TS|S|C)//[A-Z]|(^|\s)\((TS|S)\)\s",
        description="Classified portion marking, e.g. (TS//SI//NF), (S//NF), (C//REL TO USA, FVEY), or a paragraph "
                    "opening (TS) or (S); a bare (C) is left out, it is also the copyright sign (AC-4, IR-9).",
    ),
    RegexFilter(
        name="CuiMarking",
        pattern=r"\bCUI ?// ?[A-Z]",
        description="CUI banner or portion marking with a category, e.g. CUI//SP-PRVCY, (CUI//SP-CTI) "
                    "(AC-4, 32 CFR 2002).",
    ),
)


def federal_baseline(
    *,
    pii_action: Literal["BLOCK", "ANONYMIZE"] = "BLOCK",
    block_classification_markings: bool = True,
    image_filters: bool = False,
    profanity: bool = True,
) -> GuardrailPolicy:
    """The baseline guardrail for a federal (FedRAMP Moderate/High style) Bedrock workload.

    * **Content filters**: HATE, INSULTS, SEXUAL, VIOLENCE and MISCONDUCT at HIGH on input and output,
      BLOCK (SI-10, SI-15). PROMPT_ATTACK at HIGH on input (output strength NONE, as AWS requires): it
      catches jailbreaks and prompt injection, the main way around every other control (SI-10, AC-3).
    * **US PII** (``US_PII_TYPES``): ``pii_action`` on both directions. BLOCK (default) keeps the data
      out of the model and of the invocation logs; ANONYMIZE masks it and lets the call go on, for
      workloads whose privacy assessment allows it (SI-12(1), SI-15, AC-4).
    * **Credentials** (``CREDENTIAL_TYPES``): always BLOCK (IA-5(6), SC-28).
    * **Classification and CUI markings** (``CLASSIFICATION_MARKING_REGEXES``), BLOCK both ways when
      ``block_classification_markings`` (AC-4, IR-9). Turn it off only where marked data is authorized,
      e.g. a system accredited at that level (the reference app does so in ``aws-iso*`` partitions).
      Three of the 10 regexes a guardrail may hold are used; 7 are left for the agency's own.
    * **Managed PROFANITY word list** when ``profanity``: exact match, deterministic, a cheap complement
      to the probabilistic INSULTS/HATE filters (SI-15).
    * **Images** stay TEXT-only unless ``image_filters``: image filtering is offered in a subset of
      regions, and a baseline must deploy in every partition. Where prompts can carry images, turn it
      on, or images pass unfiltered.
    * **No contextual grounding**: it scores an answer against a grounding source and query that the
      caller tags in the request (RAG). Calls without them are not checked, and thresholds must be tuned
      against the corpus, so a baseline value would be either useless or a source of false blocks.
      Add :func:`rag_grounding` to the policy of a RAG application (SI-10, SI-15).
    * **No denied topics**: topics are mission-specific; add up to 30.
    """
    if pii_action not in ("BLOCK", "ANONYMIZE"):
        raise ConstructPropsError(f"federal_baseline: pii_action: {pii_action!r} is not allowed; allowed: BLOCK, ANONYMIZE")
    if not isinstance(block_classification_markings, bool):
        raise ConstructPropsError(f"federal_baseline: block_classification_markings: {block_classification_markings!r} "
                         "is not allowed; allowed: True, False")
    modalities = ("TEXT", "IMAGE") if image_filters else ("TEXT",)
    content = (
        *(ContentFilter(c, input_modalities=modalities, output_modalities=modalities) for c in HARM_CATEGORIES),
        ContentFilter.prompt_attack("HIGH"),
    )
    pii = (
        *(PiiEntity(t, action=pii_action) for t in US_PII_TYPES),
        *(PiiEntity(t, action="BLOCK") for t in CREDENTIAL_TYPES),
    )
    return GuardrailPolicy(
        content_filters=content,
        pii_entities=pii,
        regexes=CLASSIFICATION_MARKING_REGEXES if block_classification_markings else (),
        word_policy=WordPolicy(profanity=True) if profanity else None,
    )


def rag_grounding(grounding: float = 0.7, relevance: float = 0.7) -> tuple[GroundingFilter, ...]:
    """Contextual grounding for a RAG application: block answers not supported by the retrieved
    source (GROUNDING) or not relevant to the question (RELEVANCE) below the thresholds (0 to 0.99).

    Start near 0.7 and tune with the guardrail test window on real questions: higher blocks more.
    Use it as ``replace(policy, grounding_filters=rag_grounding())``.
    """
    return (GroundingFilter("GROUNDING", grounding), GroundingFilter("RELEVANCE", relevance))


__all__ = [
    "CLASSIFICATION_MARKING_REGEXES",
    "CREDENTIAL_TYPES",
    "HARM_CATEGORIES",
    "US_PII_TYPES",
    "federal_baseline",
    "rag_grounding",
]
