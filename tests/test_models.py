"""The model catalog: ids per endpoint, APIs, regions and what AWS enforces per path, with sources (no synth)."""

from __future__ import annotations

import pytest

from compliant_bedrock.models import (
    ANY_COMMERCIAL_REGION,
    CATALOG,
    EMBEDDING_ENFORCEMENT_FACT,
    EMBEDDING_MODELS,
    GOVCLOUD_NOTE,
    MANTLE_CATALOG,
    MODELS,
    PATHS,
    SRC_GOVCLOUD_BLOG,
    SRC_GPT56_SOL,
    UNGUARDED_PATHS,
    Api,
    InferencePath,
    ModelIdError,
    Residency,
    check_path,
    embedding_model_ids,
    model_destinations,
    resolve_mantle_model,
    resolve_model,
)


def test_every_fact_has_a_source_and_uncertain_ones_say_so() -> None:
    for model in MODELS:
        assert model.sources and all(s.startswith("https://") for s in model.sources), model.name
        for profile in model.profiles:
            assert profile.source.startswith("https://"), profile.profile_id
    for enforcement in PATHS.values():
        assert enforcement.sources and all(s.startswith("https://") for s in enforcement.sources)
    assert "UNCERTAIN" in GOVCLOUD_NOTE
    assert CATALOG["us-gov.openai.gpt-oss-120b-1:0"].profile.uncertain


def test_what_aws_enforces_per_path() -> None:
    converse, openai_api, mantle = (PATHS[p] for p in InferencePath)
    assert (converse.guardrail, converse.invocation_logging, converse.endpoint) == (True, True, "bedrock-runtime")
    assert (openai_api.guardrail, openai_api.invocation_logging, openai_api.endpoint) == (False, True, "bedrock-runtime")
    assert (mantle.guardrail, mantle.invocation_logging, mantle.endpoint) == (False, False, "bedrock-mantle")
    assert "management event" in converse.cloudtrail and "AWS::BedrockMantle::Project" in mantle.cloudtrail
    assert {InferencePath.RUNTIME_OPENAI, InferencePath.MANTLE} == UNGUARDED_PATHS


def test_ids_differ_per_endpoint() -> None:
    assert CATALOG["openai.gpt-oss-120b-1:0"].model.mantle_id == "openai.gpt-oss-120b"
    assert MANTLE_CATALOG["openai.gpt-5.5"].runtime_id is None  # Mantle only
    sol = MANTLE_CATALOG["openai.gpt-5.6-sol"]
    assert sol.runtime_ids() == ("us.openai.gpt-5.6-sol", "global.openai.gpt-5.6-sol")  # no in-region runtime id
    assert set(sol.runtime_apis) == {Api.CONVERSE, Api.RESPONSES, Api.CHAT_COMPLETIONS}
    assert Api.INVOKE not in sol.runtime_apis and sol.mantle_base_path == "/openai/v1"
    assert MANTLE_CATALOG["openai.gpt-oss-20b"].mantle_base_path == "/v1"


def test_gpt6_sol_destinations_depend_on_the_calling_region_and_ca_routes_through_canada() -> None:
    assert resolve_model("us.openai.gpt-6-sol", "us-east-2").destination_regions == ("us-east-1", "us-east-2", "us-west-2")
    assert resolve_model("us.openai.gpt-6-sol", "us-west-1").destination_regions == (
        "us-east-1", "us-east-2", "us-west-1", "us-west-2")
    assert "ca-central-1" in resolve_model("us.openai.gpt-6-sol", "ca-central-1").destination_regions
    with pytest.raises(ModelIdError, match=r"can be called from .* only, not from 'eu-west-1'"):
        resolve_model("us.openai.gpt-6-sol", "eu-west-1")


def test_destinations_are_the_catalogs_and_say_where_it_is_uncertain() -> None:
    """Where prompts may be processed: in-region ids and Mantle stay in the calling region; a us. profile runs in
    the regions its model card names (GPT-5.6 Sol's include Canada, and the card lists no per-region routing:
    UNCERTAIN); a global. profile anywhere commercial; an id outside the catalog is never given a certain set."""
    sol = model_destinations("us.openai.gpt-5.6-sol", "runtime-converse", "us-east-1")
    assert sol.regions == ("ca-central-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2")
    assert sol.elsewhere == ("ca-central-1", "us-east-2", "us-west-1", "us-west-2")
    assert sol.uncertain and "source regions" in sol.basis and sol.sources == (SRC_GPT56_SOL,)
    gov = model_destinations("us-gov.openai.gpt-oss-20b-1:0", "runtime-converse", "us-gov-west-1")
    assert gov.regions == ("us-gov-east-1", "us-gov-west-1") and not gov.uncertain  # the routing is AWS's blog
    assert CATALOG["us-gov.openai.gpt-oss-20b-1:0"].profile.uncertain  # the id's spelling stays UNCERTAIN
    assert gov.sources == (SRC_GOVCLOUD_BLOG,)
    six = model_destinations("us.openai.gpt-6-sol", "runtime-converse", "us-east-2")
    assert six.regions == ("us-east-1", "us-east-2", "us-west-2") and not six.uncertain
    assert model_destinations("openai.gpt-oss-120b-1:0", "runtime-converse", "us-gov-west-1").regions == ("us-gov-west-1",)
    assert model_destinations("openai.gpt-5.5", "mantle", "us-east-2").regions == ("us-east-2",)
    world = model_destinations("global.openai.gpt-5.6-sol", "runtime-converse", "us-east-1")
    assert world.regions is None and world.describe() == ANY_COMMERCIAL_REGION
    unknown = model_destinations("eu.example.model-1:0", "runtime-converse", "eu-west-1")
    assert unknown.uncertain and not unknown.verified and unknown.sources == ()


def test_residency_names_the_destinations_it_does_not_admit() -> None:
    sol = model_destinations("us.openai.gpt-5.6-sol", "runtime-converse", "us-east-1")
    assert Residency.of("us").outside(sol) == ("ca-central-1",)
    assert Residency.of(["ca-central-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2"]).outside(sol) == ()
    gov = model_destinations("us-gov.openai.gpt-oss-20b-1:0", "runtime-converse", "us-gov-west-1")
    assert Residency.of("us-gov").outside(gov) == () and Residency.of("us").outside(gov) == ()
    assert Residency.of("us-gov").outside(sol) == sol.regions
    world = model_destinations("global.openai.gpt-5.6-sol", "runtime-converse", "us-east-1")
    assert Residency.of("us").outside(world) == (ANY_COMMERCIAL_REGION,)
    with pytest.raises(ValueError, match=r"'eu' is not a named residency; use us \(.*us-gov \(.*list of regions"):
        Residency.of("eu")


@pytest.mark.parametrize(("model_id", "path", "region", "message"), [
    ("openai.gpt-5.5", InferencePath.RUNTIME_CONVERSE, "us-east-2",
     r"'openai.gpt-5.5' is not a bedrock-runtime id: .*write '- \{id: openai.gpt-5.5, path: mantle\}'"),
    ("openai.gpt-5.6-sol", InferencePath.RUNTIME_CONVERSE, "us-east-1", r"write '- us.openai.gpt-5.6-sol'"),
    ("global.openai.gpt-6-sol", InferencePath.RUNTIME_CONVERSE, "us-gov-west-1", r"commercial regions only"),
    ("openai.gpt-6-astra", InferencePath.MANTLE, "us-east-1", r"not served on bedrock-mantle in 'us-east-1'.*us-west-2"),
    ("openai.gpt-5.4", InferencePath.MANTLE, "us-west-1", r"region 'us-west-1' has no bedrock-mantle endpoint"),
    ("us.openai.gpt-5.6-sol", InferencePath.MANTLE, "us-east-1", r"bedrock-mantle has no cross-region profiles"),
    ("openai.gpt-oss-120b-1:0", InferencePath.MANTLE, "us-east-1", r"write '- \{id: openai.gpt-oss-120b, path: mantle\}'"),
])
def test_paths_that_do_not_exist_are_refused_with_the_line_to_write(model_id: str, path: InferencePath, region: str,
                                                                    message: str) -> None:
    with pytest.raises(ModelIdError, match=message):
        check_path(model_id, path, region)


def test_known_paths_are_verified_and_unknown_ids_accepted_unverified() -> None:
    assert check_path("us.openai.gpt-5.6-sol", InferencePath.RUNTIME_CONVERSE, "us-east-1") is True
    assert check_path("us.openai.gpt-5.6-sol", InferencePath.RUNTIME_OPENAI, "us-east-1") is True
    assert check_path("openai.gpt-5.5", InferencePath.MANTLE, "us-east-2") is True
    assert check_path("us-gov.openai.gpt-oss-20b-1:0", InferencePath.RUNTIME_CONVERSE, "us-gov-west-1") is True
    assert check_path("us-gov.openai.gpt-6-sol", InferencePath.RUNTIME_CONVERSE, "us-gov-west-1") is False  # UNCERTAIN
    assert resolve_mantle_model("openai.gpt-7-example", "us-east-2").verified is False


def test_the_embedding_catalog_is_sourced_and_says_where_it_is_uncertain() -> None:
    assert "guardrails-enforcements.html" in EMBEDDING_ENFORCEMENT_FACT and "fail" in EMBEDDING_ENFORCEMENT_FACT
    for model in EMBEDDING_MODELS:
        assert model.source.startswith("https://docs.aws.amazon.com/bedrock/"), model.model_id
        if "aws-us-gov" in model.partitions:  # no stored AWS page lists GovCloud's embedding models
            assert any("UNCERTAIN" in note for note in model.uncertain_notes), model.model_id
    assert embedding_model_ids("aws-us-gov") == ("amazon.titan-embed-text-v2:0",)
    assert len(embedding_model_ids("aws")) == 5 and embedding_model_ids("aws-iso") == ()
    assert embedding_model_ids(None) == ("amazon.titan-embed-text-v2:0",)  # in every partition that has any
