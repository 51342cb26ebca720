"""The package's ``compliant-bedrock`` console script: the app's commands in its checkout, a clear exit 2 elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliant_bedrock import cli
from infra.app_factory import ROOT


def test_outside_an_app_checkout_it_exits_2_and_says_where_to_run_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.app_root() is None
    assert cli.main(["verify", "--env", "commercial"]) == 2
    err = capsys.readouterr().err
    assert f"no app checkout here ({tmp_path})" in err and "docs/own-app.md" in err


def test_in_the_checkout_or_below_it_runs_the_apps_commands(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT / "docs")  # a subdirectory: the checkout is found above it
    assert cli.app_root() == ROOT
    assert cli.main(["validate"]) == 0
    assert "0 problem(s)" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:  # verify's own options, under the script's name
        cli.main(["verify", "--help"])
    assert done.value.code == 0 and "usage: compliant-bedrock verify" in capsys.readouterr().out


def test_the_script_is_declared_for_the_wheel() -> None:
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"compliant-bedrock": "compliant_bedrock.cli:main"}
