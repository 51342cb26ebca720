"""The library in anyone's CDK app: the one-call gate, constructs without flags or lookups, the public API,
and the example the README shows (synthesized in-process, once, and mutated twice: a broad policy, no acceptances)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
import yaml
from conftest import sarif_errors

import compliant_bedrock as cb
from compliant_bedrock.compliance_gate import ComplianceGate, GateResult, prune_stale

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "own_app" / "app.py"
#: A broad inline policy: what the mutated example adds before its last line.
BROAD_POLICY = 'role.add_to_policy(iam.PolicyStatement(actions=["bedrock:*"], resources=["*"]))\n'


def _run_example(source: str, outdir: Path) -> tuple[int, str]:
    """Run the example's source in this process, its App writing to ``outdir``: (exit code, stderr).

    jsii's Node process started with this process's environment, so CDK_OUTDIR set now would not reach it:
    the App is given ``outdir`` instead, as the CDK CLI's CDK_OUTDIR would give it.
    """
    err = io.StringIO()
    code = 0
    real_app = cdk.App
    cdk.App = lambda **props: real_app(outdir=str(outdir), **props)  # type: ignore[misc]
    try:
        with contextlib.redirect_stderr(err):
            try:
                exec(compile(source, str(EXAMPLE), "exec"), {"__name__": "__main__", "__file__": str(EXAMPLE)})
            except SystemExit as exit_:
                code = int(exit_.code or 0)
    finally:
        cdk.App = real_app  # type: ignore[misc]
    return code, err.getvalue()


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    outdir = tmp_path_factory.mktemp("own-app") / "cdk.out"
    outdir.mkdir()
    (outdir / "Removed.template.json").write_text("{}")  # an earlier synth's stack, no longer in the app
    code, err = _run_example(EXAMPLE.read_text(encoding="utf-8"), outdir)
    return outdir, code, err


def test_the_example_passes_the_gate_with_the_full_evidence(example: tuple[Path, int, str]) -> None:
    outdir, code, err = example
    assert code == 0, err
    verdict = [line for line in err.splitlines() if line.startswith("compliance: gate")]
    assert verdict == [f"compliance: gate passed (1 stacks, perimeter proof {_requests(outdir)} requests in "
                       f"1 environment(s)); evidence in {outdir / 'compliance'}/"], err
    evidence = {p.name for p in (outdir / "compliance").iterdir()}
    assert {"findings.json", "summary.md", "component-definition.json", "poam.json", "matrix-BedrockWorkload.json",
            "architecture-BedrockWorkload.svg", "sdr-BedrockWorkload.json", "perimeter-BedrockWorkload.md"} <= evidence
    assert json.loads((outdir / "compliance" / "findings.json").read_text())["passed"] is True
    sarif = json.loads((outdir / "compliance" / "findings.sarif").read_text())
    assert sarif_errors(sarif) == [] and sarif["runs"][0]["results"], "its suppressions are reported"
    assert all(r["suppressions"][0]["justification"] for r in sarif["runs"][0]["results"]), "nothing blocks"
    assert not (outdir / "Removed.template.json").exists(), "an earlier synth's template would look current"
    # The cdk-nag packs ran on the stack (the gate attached them), not only the Bedrock pack.
    assert (outdir / "NIST.800.53.R5--BedrockWorkload-NagReport.json").is_file()
    assert (outdir / "AwsSolutions--BedrockWorkload-NagReport.json").is_file()


def _requests(outdir: Path) -> int:
    proof = json.loads((outdir / "compliance" / "perimeter-BedrockWorkload.json").read_text())
    return sum(proof["counts"].values())


def test_the_example_needs_no_context_and_looks_nothing_up(example: tuple[Path, int, str]) -> None:
    """Its cdk.json names only the app; the assembly asks for no lookup (no credentials needed)."""
    outdir, _, _ = example
    assert json.loads((EXAMPLE.parent / "cdk.json").read_text()) == {"app": "python3 app.py"}
    assert not json.loads((outdir / "manifest.json").read_text()).get("missing")


def test_the_example_with_a_broad_inline_policy_fails_with_the_rule_lines(tmp_path: Path) -> None:
    source = EXAMPLE.read_text(encoding="utf-8")
    last = source.rindex("\ncb.synth(")
    code, err = _run_example(source[:last + 1] + BROAD_POLICY + source[last + 1:], tmp_path / "cdk.out")
    assert code == 1, err
    rules = set(re.findall(r"^compliance: BedrockWorkload: (\S+) BedrockWorkload/WorkloadRole/DefaultPolicy", err, re.M))
    assert {"NIST.800.53.R5-IAMNoInlinePolicy", "AwsSolutions-IAM5"} <= rules, err
    assert re.search(r"^compliance: gate FAILED: \d+ unsuppressed error\(s\); synth fails", err, re.M), err
    assert json.loads((tmp_path / "cdk.out" / "compliance" / "findings.json").read_text())["passed"] is False
    sarif = json.loads((tmp_path / "cdk.out" / "compliance" / "findings.sarif").read_text())
    assert sarif_errors(sarif) == []
    blocking = {r["ruleId"]: r["locations"][0] for r in sarif["runs"][0]["results"] if "suppressions" not in r
                and r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith(
                    "BedrockWorkload/WorkloadRole/DefaultPolicy")}
    assert {"NIST.800.53.R5-IAMNoInlinePolicy", "AwsSolutions-IAM5"} <= set(blocking)
    where = blocking["NIST.800.53.R5-IAMNoInlinePolicy"]["physicalLocation"]
    template = (tmp_path / "cdk.out" / "BedrockWorkload.template.json").read_text().splitlines()
    assert where["artifactLocation"]["uri"] == "cdk.out/BedrockWorkload.template.json"
    assert template[where["region"]["startLine"] - 1].strip().startswith('"WorkloadRoleDefaultPolicy')


def test_the_readme_shows_the_example_verbatim() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Use it in your own app\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks and blocks[0] == EXAMPLE.read_text(encoding="utf-8")


def test_the_getting_started_verdict_line_is_what_the_example_prints(example: tuple[Path, int, str]) -> None:
    """docs/getting-started.md quotes the example's verdict line: its figures are this synth's, never typed."""
    outdir, _, _ = example
    page = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    stated = re.findall(r"`compliance: gate passed \((\d+) stacks, perimeter proof (\d+) requests in (\d+) "
                        r"environment\(s\)\); evidence in cdk.out/compliance/`", page)
    assert stated, "docs/getting-started.md: the own app's verdict line is missing"
    assert {tuple(map(int, s)) for s in stated} == {(1, _requests(outdir), 1)}


def test_report_only_and_the_perimeter_modes_never_claim_a_proof_not_run(
        example: tuple[Path, int, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Judging the example's assembly again: ``off`` and ``auto`` without a simulator say so on the verdict line
    and in summary.md, and leave no earlier proof behind; ``required`` without one exits 3 with no evidence."""
    outdir, _, _ = example
    app = cdk.App()
    out = io.StringIO()
    off = ComplianceGate(app, perimeter="off", out=out).judge(outdir)
    assert off.exit_code == 0 and "perimeter proof NOT run: switched off" in out.getvalue()
    assert not list((outdir / "compliance").glob("perimeter-*")), "an earlier proof would be cited"
    summary = (outdir / "compliance" / "summary.md").read_text()
    assert "## Perimeter proof\n\nNot run: switched off" in summary
    monkeypatch.setenv("COMPLIANT_BEDROCK_NODE_MODULES", str(tmp_path))  # no simulator there
    auto = ComplianceGate(app, out=out).judge(outdir)
    assert auto.exit_code == 0 and "perimeter proof NOT run: the IAM simulator could not run" in out.getvalue()
    required = ComplianceGate(app, perimeter="required", out=io.StringIO()).judge(outdir)
    assert required.exit_code == 3 and not (outdir / "compliance").exists()
    # A blocking finding (a pack's report with a non-compliant error): exit 1, or 0 under report-only.
    report = outdir / "HIPAA.Security--BedrockWorkload-NagReport.json"
    report.write_text(json.dumps({"lines": [{
        "ruleId": "HIPAA.Security-S3BucketVersioningEnabled", "resourceId": "BedrockWorkload/X",
        "compliance": "Non-Compliant", "exceptionReason": "N/A", "ruleLevel": "Error", "ruleInfo": "test"}]}))
    try:
        text = io.StringIO()
        assert ComplianceGate(app, perimeter="off", report_only=True, out=text).judge(outdir).exit_code == 0
        assert "reported only (compliance:report-only)" in text.getvalue()
        assert "HIPAA.Security-S3BucketVersioningEnabled BedrockWorkload/X" in text.getvalue()
        blocking = ComplianceGate(app, perimeter="off", out=(text := io.StringIO())).judge(outdir)
        assert blocking.exit_code == 1 and "gate FAILED: 1 unsuppressed error(s); synth fails" in text.getvalue()
    finally:
        report.unlink()


#: The example's argument naming its acceptances file (the tests below replace it).
ACCEPTANCES_ARG = 'perimeter_acceptances=Path(__file__).with_name("perimeter-acceptances.yaml")'


def test_an_open_perimeter_path_alone_fails_the_gate(tmp_path: Path) -> None:
    """The proof's half of the verdict, through ``cb.synth``: the example without its acceptances (no
    organization SCP binds its account, so the proof finds open paths) has no rule finding, yet synth must
    exit 1, name the paths, print no 'gate passed' and file ``passed: false``."""
    source = EXAMPLE.read_text(encoding="utf-8")
    assert source.count(ACCEPTANCES_ARG) == 1
    absent = tmp_path / "no-acceptances.yaml"  # no such file: nothing is accepted
    code, err = _run_example(source.replace(ACCEPTANCES_ARG, f"perimeter_acceptances={str(absent)!r}"),
                             tmp_path / "cdk.out")
    findings = json.loads((tmp_path / "cdk.out" / "compliance" / "findings.json").read_text())
    assert findings["blocking"] == [], "a rule finding would fail the gate on its own: not what this tests"
    assert code == 1, err
    opened = re.findall(r"^compliance: BedrockWorkload: Perimeter (\S+) .*: allowed, expected deny", err, re.M)
    assert opened and len(opened) == len(findings["perimeter"]["blocking"]), err
    assert re.search(rf"^compliance: gate FAILED: {len(opened)} unsuppressed error\(s\); synth fails", err, re.M), err
    assert "compliance: gate passed" not in err
    assert findings["passed"] is False and findings["perimeter"]["passed"] is False
    assert {o["id"] for o in findings["perimeter"]["blocking"]} == set(opened)
    sarif = json.loads((tmp_path / "cdk.out" / "compliance" / "findings.sarif").read_text())
    assert sarif_errors(sarif) == []
    assert sorted(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] for r in sarif["runs"][0]["results"]
                  if r["ruleId"] == "Perimeter-OpenPath" and "suppressions" not in r) == sorted(
        f"BedrockWorkload/{request}" for request in opened)


def test_a_stale_perimeter_acceptance_alone_fails_the_gate_and_is_named(example: tuple[Path, int, str],
                                                                       tmp_path: Path) -> None:
    """``prove()``'s own stale check, through ``ComplianceGate.judge``: the example's assembly passes with its
    acceptances; the same plus one acceptance of a request the example closes (no rule finding, no open path)
    fails the gate, which names the acceptance."""
    outdir = tmp_path / "cdk.out"
    shutil.copytree(example[0], outdir, symlinks=True)  # the shared assembly stays as the other tests left it

    def judge(acceptances: Path) -> tuple[GateResult, str]:
        out = io.StringIO()
        result = ComplianceGate(cdk.App(), perimeter="required", perimeter_acceptances=acceptances,
                                node_modules=ROOT / "node_modules", out=out).judge(outdir)
        return result, out.getvalue()

    example_acceptances = EXAMPLE.parent / "perimeter-acceptances.yaml"
    before, text = judge(example_acceptances)
    assert before.exit_code == 0 and before.passed and before.perimeter == "ran", text
    proof = json.loads((outdir / "compliance" / "perimeter-BedrockWorkload.json").read_text())
    closed = next(r["id"] for r in proof["requests"]
                  if "[" not in r["id"] and r["expect"] == "deny" and r["decision"] == "denied")
    accepted = yaml.safe_load(example_acceptances.read_text(encoding="utf-8"))
    accepted["accepted"].append({"request": closed, "reason": "accepted once while it was open; the path has "
                                 "been closed since, so this acceptance must now be removed",
                                 "approved_by": "system owner, decision record EX-2026-002", "expires": "2099-12-31"})
    acceptances = tmp_path / "acceptances.yaml"
    acceptances.write_text(yaml.safe_dump(accepted), encoding="utf-8")
    result, text = judge(acceptances)
    assert result.findings == [] and result.perimeter == "ran", text
    assert result.exit_code == 1 and not result.passed, text
    assert len(result.perimeter_lines) == 1, "the stale acceptance alone"
    assert result.perimeter_lines[0].startswith(f"perimeter acceptance {closed}: covers no open request"), text
    assert f"compliance: perimeter acceptance {closed}: covers no open request" in text
    assert "compliance: gate FAILED: 1 unsuppressed error(s); synth fails" in text
    assert "compliance: gate passed" not in text
    findings = json.loads((outdir / "compliance" / "findings.json").read_text())
    assert findings["passed"] is False and findings["perimeter"]["blocking"] == []
    assert [a["request"] for a in findings["perimeter"]["stale_acceptances"]] == [closed]


def test_per_stack_rule_contexts_reach_the_bedrock_pack(example: tuple[Path, int, str]) -> None:
    """A stack that must keep logs ten years fails on the example's one-year log groups; the default passes."""
    outdir, _, _ = example
    strict = {"BedrockWorkload": cb.RuleContext(min_log_retention_days=3653)}
    text = io.StringIO()
    result = ComplianceGate(cdk.App(), perimeter="off", rule_contexts=strict, out=text).judge(outdir)
    assert result.exit_code == 1 and {f.rule_id for f in result.findings} == {"Bedrock-LogGroupEncryptedRetained"}
    assert ComplianceGate(cdk.App(), perimeter="off", out=io.StringIO()).judge(outdir).exit_code == 0


def test_the_gate_dates_the_evidence_or_writes_none_and_builds_locations_on_the_base_uri(
        example: tuple[Path, int, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside a git checkout with SOURCE_DATE_EPOCH 0 (the Makefile's fallback), nothing dates the evidence:
    exit 2, no evidence (never 1970, never the clock). The context's base URI reaches the SDRs."""
    outdir = tmp_path / "cdk.out"
    shutil.copytree(example[0], outdir, symlinks=True)
    base = "https://trust.example.gov/evidence/"
    app = cdk.App(context={"compliance:evidence-base-uri": base})
    assert ComplianceGate(app, perimeter="off", out=io.StringIO()).judge(outdir).exit_code == 0
    sdr = json.loads((outdir / "compliance" / "sdr-BedrockWorkload.json").read_text())
    assert {e["evidenceLocation"] for k in sdr["keySecurityIndicators"] for e in k["ksiEvidence"]} >= {
        f"{base}matrix-BedrockWorkload.json", f"{base}provenance.json"}
    elsewhere = tmp_path / "not-a-checkout"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    text = io.StringIO()
    result = ComplianceGate(cdk.App(), perimeter="off", out=text).judge(outdir)
    assert result.exit_code == 2, text.getvalue()
    assert "never dated 1970-01-01" in text.getvalue() and "no evidence written" in text.getvalue()
    assert not (outdir / "compliance").exists()


def test_gate_options_are_checked() -> None:
    app = cdk.App()
    cdk.Stack(app, "One")
    with pytest.raises(cb.ConstructPropsError, match="extra_packs: \\['SOX'\\]"):
        ComplianceGate(app, extra_packs=["SOX"])
    with pytest.raises(cb.ConstructPropsError, match="perimeter: 'maybe'"):
        ComplianceGate(app, perimeter="maybe")  # type: ignore[arg-type]
    assert ComplianceGate(cdk.App(context={"compliance:perimeter": "off"})).perimeter == "off"
    with pytest.raises(cb.ConstructPropsError, match=r"evidence_base_uri .*'\./evidence' is not an absolute URI"):
        ComplianceGate(app, evidence_base_uri="./evidence")
    with pytest.raises(cb.ConstructPropsError, match=r"package_overview_uri .*not an absolute URI"):
        ComplianceGate(cdk.App(context={"compliance:package-overview-uri": "overview.md"}))
    staged = cdk.App()
    cdk.Stack(cdk.Stage(staged, "Prod"), "Inner")
    with pytest.raises(cb.ConstructPropsError, match=r"\['Prod/Inner'\] are inside a Stage"):
        ComplianceGate(staged).attach()
    with pytest.raises(cb.ConstructPropsError, match="stacks: \\['Two'\\] are not stacks of this app"):
        ComplianceGate(app, stacks=["Two"]).attach()


def test_stale_stacks_of_an_earlier_synth_are_removed(tmp_path: Path) -> None:
    """``make synth ENV=x`` after a full synth: the other environments' templates must not look current."""
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": {
        "A": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "A.template.json"},
              "additionalMetadataFile": "A.metadata.json"},
        "A.assets": {"type": "cdk:asset-manifest", "properties": {"file": "A.assets.json"}}}}))
    (tmp_path / "A.template.json").write_text("{}")
    (tmp_path / "A.metadata.json").write_text("{}")
    (tmp_path / "A.assets.json").write_text(json.dumps({"files": {"h": {"source": {"path": "asset.keep"}}}}))
    for name in ("B.template.json", "B.assets.json", "B.metadata.json", "NIST.800.53.R5--B-NagReport.json",
                 "NIST.800.53.R5--A-NagReport.json"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "asset.keep").mkdir()
    (tmp_path / "asset.gone").mkdir()
    removed = {p.name for p in prune_stale(tmp_path)}
    assert removed == {"B.template.json", "B.assets.json", "B.metadata.json", "NIST.800.53.R5--B-NagReport.json",
                       "asset.gone"}
    assert {p.name for p in tmp_path.iterdir()} == {"manifest.json", "A.template.json", "A.assets.json", "A.metadata.json",
                                                   "NIST.800.53.R5--A-NagReport.json", "asset.keep"}


def test_each_construct_synthesizes_in_a_bare_app_without_flags_or_lookups() -> None:
    """No cdk.json context, an account-specific stack, no credentials: every construct synthesizes and the
    assembly asks for no lookup. AuditBucket sets the S3 access-log flag itself (without it, jsii refuses the
    ACL grant on a bucket-owner-enforced bucket), so its access-log bucket gets log delivery by policy."""
    from aws_cdk import aws_s3 as s3

    app = cdk.App()
    env = cdk.Environment(account="111122223333", region="us-east-1")

    def stack(name: str) -> cdk.Stack:
        made = cdk.Stack(app, name, env=env)
        cb.pin_availability_zones(made, ["us-east-1a", "us-east-1b"])
        return made

    net = stack("Vpc")
    key = cb.retained_key(net, "Key", description="flow logs")
    vpc = cb.IsolatedVpc(net, "Network", cidr="10.0.0.0/16", availability_zones=["us-east-1a", "us-east-1b"],
                         log_key=key, flow_log_retention_days=365)
    link_stack = stack("Link")
    link_vpc = cb.IsolatedVpc(link_stack, "Network", cidr="10.1.0.0/16", availability_zones=["us-east-1a", "us-east-1b"],
                              log_key=cb.retained_key(link_stack, "Key", description="flow logs"),
                              flow_log_retention_days=365)
    guardrail = cb.BedrockGuardrail(link_stack, "Guardrail", name="bare")
    link = cb.BedrockPrivateLink(link_stack, "PrivateLink", vpc=link_vpc, model_ids=["openai.gpt-oss-120b-1:0"])
    cb.BedrockModelAccess(link_stack, "Access", guardrail=guardrail, private_link=link)
    cb.AuditBucket(stack("Bucket"), "Bucket")
    cb.AuditTrail(stack("Trail"), "Trail")
    cb.ModelInvocationLogging(stack("Logging"), "Logging")
    cb.TamperDetection(stack("Detection"), "Detection", alert_emails=["soc@example.gov"])
    assembly = app.synth()
    manifest = json.loads((Path(assembly.directory) / "manifest.json").read_text())
    assert not manifest.get("missing"), "a construct asked for a context lookup"
    bucket = assembly.get_stack_by_name("Bucket").template["Resources"]
    log_delivery = [s for r in bucket.values() if r["Type"] == "AWS::S3::BucketPolicy"
                    for s in r["Properties"]["PolicyDocument"]["Statement"]
                    if s.get("Principal") == {"Service": "logging.s3.amazonaws.com"} and s["Effect"] == "Allow"]
    assert log_delivery and log_delivery[0]["Action"] == "s3:PutObject"
    assert vpc.vpc.availability_zones == ["us-east-1a", "us-east-1b"]
    # A bucket brought in without the flag is refused with the flag and the prop named.
    other = stack("Own")
    own = s3.Bucket(other, "Logs", object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED)
    with pytest.raises(cb.ConstructPropsError, match=r"serverAccessLogsUseBucketPolicy.*access_logs_bucket"):
        cb.AuditBucket(other, "Audit", access_logs_bucket=own)


def test_model_access_takes_the_guardrail_and_the_private_link_or_the_explicit_props() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="111122223333", region="us-east-1"))
    guardrail = cb.BedrockGuardrail(stack, "Guardrail", name="g")
    with pytest.raises(cb.ConstructPropsError, match="no guardrail; pass guardrail="):
        cb.BedrockModelAccess(stack, "NoGuardrail", model_ids=["openai.gpt-oss-120b-1:0"], require_vpc_endpoint=False)
    with pytest.raises(cb.ConstructPropsError, match="guardrail and guardrail_arn"):
        cb.BedrockModelAccess(stack, "Both", model_ids=["openai.gpt-oss-120b-1:0"], guardrail=guardrail,
                              guardrail_arn=guardrail.guardrail_arn, require_vpc_endpoint=False)
    access = cb.BedrockModelAccess(stack, "Explicit", model_ids=["openai.gpt-oss-120b-1:0"], require_vpc_endpoint=False,
                                   guardrail_arn=guardrail.guardrail_arn,
                                   guardrail_versioned_arn=guardrail.versioned_arn)
    assert [r.model_id for r in access.model_routes] == ["openai.gpt-oss-120b-1:0"]


def test_the_public_api() -> None:
    for name in cb.__all__:
        assert getattr(cb, name) is not None, name
    assert cb.synth.__module__ == "compliant_bedrock.compliance_gate"
    assert (ROOT / "constructs" / "compliant_bedrock" / "py.typed").is_file()
    assert '"compliant_bedrock" = ["py.typed"]' in (ROOT / "pyproject.toml").read_text()
    with pytest.raises(cb.CompliantBedrockError, match="not a path string"):
        cb.suppress("Stack/Bucket", "NIST.800.53.R5-S3BucketReplicationEnabled", "reason " * 8)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        cb.Nope  # noqa: B018


def test_importing_the_package_silences_jsiis_node_end_of_life_banner(tmp_path: Path) -> None:
    """Under an end-of-life Node (the system's, when it is one), jsii prints its banner unless the package set
    the variable before jsii started."""
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip() \
        if _which("node") else ""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_SILENCE")}
    script = "import compliant_bedrock, os; import aws_cdk; print(os.environ['JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION'])"
    if node and int(node.lstrip("v").split(".")[0]) < 24:
        env["JSII_NODE"] = _which("node")
    result = subprocess.run([sys.executable, "-c", script], env={**env, "PYTHONPATH": str(ROOT / "constructs")},
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "end-of-life" not in result.stdout + result.stderr
    assert "20" in result.stdout.strip().split(",")  # the system Node's major here, and every earlier one


def _which(name: str) -> str:
    import shutil

    return shutil.which(name) or ""



def test_an_own_app_with_a_bad_construct_property_exits_2_with_one_line(tmp_path: Path) -> None:
    """A construct refusing its props ends the app with exit 2 (bad input), one line naming the field and no
    traceback, as the reference app does: a pipeline tells a typo from a finding (1)."""
    script = ("import compliant_bedrock as cb\nimport aws_cdk as cdk\napp = cdk.App()\n"
              "stack = cdk.Stack(app, 'S', env=cdk.Environment(account='111122223333', region='us-east-1'))\n"
              "cb.AuditTrail(stack, 'Trail', trail_name='x')\ncb.synth(app)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "constructs")}
    env.pop("COMPLIANT_BEDROCK_TRACEBACKS", None)
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == ["compliant-bedrock: invalid input: AuditTrail 'Trail': trail_name 'x' must be 3-128 characters "
                     "of letters, digits, '.', '_' or '-', starting and ending with a letter or digit"], lines
    # debugging the library: the traceback on request
    debug = subprocess.run([sys.executable, "-c", script], env={**env, "COMPLIANT_BEDROCK_TRACEBACKS": "1"},
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert debug.returncode == 2 and "Traceback" in debug.stderr


def test_an_own_app_that_fails_before_the_gate_exits_3_never_1(tmp_path: Path) -> None:
    """Any other exception (the newcomer's ``project.arn``, an AttributeError in the app) keeps its traceback and
    exits 3, could not judge: exit 1 stays the code of a compliance finding."""
    script = ("import compliant_bedrock as cb\nclass Project: project_arn = 'arn'\nProject().arn\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "constructs")}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60,
                            cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert "Traceback" in result.stderr and "AttributeError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(
        "compliant-bedrock: the app failed before the compliance gate could judge it (exit 3")
    interrupted = subprocess.run([sys.executable, "-c", "import compliant_bedrock\nraise KeyboardInterrupt\n"],
                                 env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert interrupted.returncode == -signal.SIGINT and "compliant-bedrock" not in interrupted.stderr  # Python's own
