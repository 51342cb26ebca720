"""Every configuration problem at once: ``python -m infra.cli validate`` and a failed synth report all problems of
all files (environments and organizations) in one pass, with "did you mean" for keys and model ids; an overlapping
VPC CIDR within one organization is a warning. Pure functions, and two short subprocesses (no synth)."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from infra.app_factory import ROOT
from infra.config import ConfigError, parse_environment, read_environments
from infra.validate import collect

SHIPPED = ROOT / "config"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(SHIPPED, target, ignore=shutil.ignore_patterns("perimeter"))
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} not once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _plant_three(config: Path) -> None:
    """A typo'd key, a bad region and a bad model id, each in another file."""
    _edit(config / "commercial.yaml", "fips_endpoints: true", "fips_endpoint: true")
    _edit(config / "frontier.yaml", "region: us-east-2", "region: us-east-9")
    _edit(config / "govcloud.yaml", "  - openai.gpt-oss-120b-1:0", "  - openai.gpt-oss-12b-1:0")


def _in_process(monkeypatch: pytest.MonkeyPatch, config: Path) -> None:
    """As the CDK CLI runs the app (its context names the config directory), without a subprocess."""
    monkeypatch.setenv("CDK_CONTEXT_JSON", f'{{"compliant-bedrock:config-dir": "{config}"}}')
    monkeypatch.setenv("CDK_OUTDIR", str(config.parent / "out"))
    monkeypatch.setattr("infra.runtime.prepare", lambda: None)  # the test process is prepared already


def test_the_shipped_configuration_validates() -> None:
    found = collect(SHIPPED)
    assert (found.problems, found.warnings, found.exit_code) == ([], [], 0)


def test_validate_reports_three_planted_problems_in_one_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from infra.cli import main

    config = _copy(tmp_path)
    _plant_three(config)
    _in_process(monkeypatch, config)
    assert main(["validate", "--config-dir", str(config)]) == 2
    result = capsys.readouterr()
    errors = [line for line in result.err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3, result.err
    typo, region, model = errors
    assert typo.startswith(f"error: {config}/commercial.yaml: environment 'commercial': fips_endpoint: unknown key "
                           "(did you mean 'fips_endpoints'?)")
    assert region.startswith(f"error: {config}/frontier.yaml: environment 'frontier': region: unknown AWS region "
                             "'us-east-9'; known regions: ")
    assert model.startswith(f"error: {config}/govcloud.yaml: environment 'govcloud': models: model id "
                            "'openai.gpt-oss-12b-1:0' (path runtime-converse) is not in the model catalog")
    assert "did you mean 'openai.gpt-oss-120b-1:0'" in model and "accept_unverified_models" in model
    # the organization that covers frontier does not report it again as "not an environment"
    assert "are not environments" not in result.err
    assert result.err.splitlines()[-1] == "3 problem(s), 0 warning(s)"


def test_synth_reports_every_problem_too_and_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """app.py's body (``infra.cli.run``) as the CDK CLI runs it: the organization file's typo in the same pass."""
    from infra.cli import run

    config = _copy(tmp_path)
    _plant_three(config)
    _edit(config / "organization" / "commercial.yaml", "home_region: us-east-1", "home_regoin: us-east-1")
    _in_process(monkeypatch, config)
    assert run() == 2
    err = capsys.readouterr().err
    assert "invalid configuration (4 problem(s))" in err, err
    for fragment in ("fips_endpoint: unknown key (did you mean 'fips_endpoints'?)", "unknown AWS region 'us-east-9'",
                     "'openai.gpt-oss-12b-1:0' (path runtime-converse) is not in the model catalog",
                     "organization: home_regoin: unknown key (did you mean 'home_region'?)"):
        assert fragment in err, fragment
    assert "home_region: required field is missing" not in err  # the typo's line says it


def test_a_files_field_errors_do_not_hide_its_model_problems() -> None:
    """The newcomer's case: a bad CIDR, a typo and a model GovCloud does not serve, all in the first pass."""
    raw = yaml.safe_load((SHIPPED / "govcloud.yaml").read_text())
    raw["vpc"]["cidr"] = "10.41.0.0/33"
    raw["fips_endpoint"] = raw.pop("fips_endpoints")
    raw["models"] = ["openai.gpt-oss-120b-1:0", "us.openai.gpt-5.6-sol", "openai.gpt-4o-mini"]
    raw.pop("accept_unverified_models")
    with pytest.raises(ConfigError) as caught:
        parse_environment(raw, "config/govcloud.yaml")
    problems = caught.value.problems
    assert len(problems) == 4, problems
    assert any("vpc.cidr: '10.41.0.0/33' is not an IPv4 CIDR block" in p for p in problems)
    assert any("fips_endpoint: unknown key (did you mean 'fips_endpoints'?)" in p for p in problems)
    assert any("inference profile 'us.openai.gpt-5.6-sol' can be called from" in p and "us-gov-west-1" in p
               for p in problems)
    assert any("'openai.gpt-4o-mini' (path runtime-converse) is not in the model catalog" in p for p in problems)


def test_an_unknown_or_uncertain_model_fails_unless_accepted_and_stale_acceptances_too() -> None:
    raw = yaml.safe_load((SHIPPED / "govcloud.yaml").read_text())
    accepted = raw.pop("accept_unverified_models")
    with pytest.raises(ConfigError, match=r"models: model id 'us-gov.openai.gpt-oss-20b-1:0' \(path runtime-converse\) "
                                          r"is an UNCERTAIN inference profile id"):
        parse_environment(copy.deepcopy(raw), "config/govcloud.yaml")
    short = {k: {**v, "reason": "we need it"} for k, v in accepted.items()}
    with pytest.raises(ConfigError, match=r"accept_unverified_models.us-gov.openai.gpt-oss-20b-1:0.reason.*8 words"):
        parse_environment({**raw, "accept_unverified_models": short}, "config/govcloud.yaml")
    stale = {**accepted, "openai.gpt-oss-120b-1:0": next(iter(accepted.values()))}
    with pytest.raises(ConfigError, match=r"accept_unverified_models.openai.gpt-oss-120b-1:0: the model catalog "
                                          r"vouches for it in us-gov-west-1; remove the acceptance"):
        parse_environment({**raw, "accept_unverified_models": stale}, "config/govcloud.yaml")
    env = parse_environment({**raw, "accept_unverified_models": accepted}, "config/govcloud.yaml")
    assert list(env.accept_unverified_models) == ["us-gov.openai.gpt-oss-20b-1:0"]


def test_cross_file_problems_come_with_the_per_file_ones(tmp_path: Path) -> None:
    """A file that does not parse does not hide two others that would share one account's trail."""
    config = _copy(tmp_path)
    _edit(config / "commercial.yaml", "fips_endpoints: true", "fips_endpoint: true")
    text = (config / "govcloud.yaml").read_text(encoding="utf-8")
    (config / "govcloud-b.yaml").write_text(text.replace("name: govcloud", "name: govcloud-b")
                                            .replace("10.41.0.0/16", "10.43.0.0/16"), encoding="utf-8")
    envs, problems, unparsed = read_environments(config)
    assert unparsed == {"commercial"} and [e.name for _, e in envs] == ["frontier", "govcloud-b", "govcloud"]
    assert any("commercial.yaml: environment 'commercial': fips_endpoint: unknown key" in p for p in problems)
    assert any("govcloud.yaml: environment 'govcloud': audit.create_trail: account 444433332222 already gets "
               "its multi-region trail from 'govcloud-b'" in p for p in problems), problems


def test_an_overlapping_vpc_cidr_within_one_organization_is_a_warning(tmp_path: Path) -> None:
    config = _copy(tmp_path)
    _edit(config / "frontier.yaml", "cidr: 10.42.0.0/16", "cidr: 10.40.128.0/20")
    found = collect(config)
    assert found.problems == [] and found.exit_code == 0
    (warning,) = found.warnings
    assert warning.startswith(f"{config}/commercial.yaml: environment 'commercial': vpc.cidr: 10.40.0.0/16 overlaps "
                              f"10.40.128.0/20 of environment 'frontier' ({config}/frontier.yaml), both in "
                              "organization o-exampleorg1")
    # another organization's environment may reuse the range: no warning
    _edit(config / "frontier.yaml", "cidr: 10.40.128.0/20", "cidr: 10.41.0.0/16")
    assert collect(config).warnings == []


def test_an_organization_key_typo_gets_did_you_mean(tmp_path: Path) -> None:
    config = _copy(tmp_path)
    _edit(config / "organization" / "govcloud.yaml", "home_region:", "home_regoin:")
    found = collect(config)
    assert any("organization: home_regoin: unknown key (did you mean 'home_region'?); allowed keys here:" in p
               for p in found.problems), found.problems


def test_synth_prints_the_overlap_warning_and_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """What ``infra.cli.run`` prints before it builds the app (no synth here: the warning never fails it)."""
    from infra.cli import _print_cidr_warnings
    from infra.config import load_environments

    config = _copy(tmp_path)
    _edit(config / "frontier.yaml", "cidr: 10.42.0.0/16", "cidr: 10.40.128.0/20")
    _in_process(monkeypatch, config)
    _print_cidr_warnings(load_environments(config))
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"compliant-bedrock: warning: {config}/commercial.yaml: environment 'commercial': vpc.cidr: "
                           "10.40.0.0/16 overlaps 10.40.128.0/20 of environment 'frontier'")


def test_the_documented_validate_output_is_what_validate_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """docs/configuration.md's example: each line, up to its '...', begins a line validate prints for it."""
    from infra.cli import main

    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    block = text.split("<!-- validate-example:", 1)[1].split("```", 2)[1]
    documented = [line.split(" ...")[0] for line in block.strip().splitlines()]
    config = _copy(tmp_path)
    _plant_three(config)
    _in_process(monkeypatch, config)
    monkeypatch.chdir(tmp_path)  # relative paths, as in the documentation
    assert main(["validate", "--config-dir", "config"]) == 2
    printed = capsys.readouterr().err.splitlines()
    assert len(printed) == len(documented), printed
    for doc, line in zip(documented, printed, strict=True):
        assert line.startswith(doc), (doc, line)
