"""The GitLab pipeline: valid for GitLab, and the delivery flow its rules implement.

The schema check runs check-jsonschema with the GitLab CI schema it vendors, offline. The
rules are evaluated by tests/gitlab_ci_model.py for the variables GitLab sets in each kind
of pipeline; the model's own behaviour is tested first, so a wrong model cannot pass.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitlab_ci_model import Decision, Pipeline, UnsupportedSyntax, decide, evaluate, needs_of

from environments import REGISTRY as ENVIRONMENT_MODULES
from tools.ci import delivery

REPO = Path(__file__).resolve().parents[1]
CI_FILE = REPO / ".gitlab-ci.yml"
STACK_KINDS = ("platform", "bootstrap")
STATIC_KEY_NAMES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(CI_FILE)


# --- the variables GitLab sets for each kind of pipeline -----------------------------------


def merge_request(branch: str = "feature/vpc-endpoints") -> dict[str, str]:
    # GitLab sets no CI_COMMIT_BRANCH in merge request pipelines.
    return {
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": "42",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": branch,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_COMMIT_REF_NAME": branch,
        "CI_COMMIT_REF_PROTECTED": "false",
        "CI_DEFAULT_BRANCH": "main",
    }


def push_branch(branch: str, protected: bool = True, source: str = "push") -> dict[str, str]:
    return {
        "CI_PIPELINE_SOURCE": source,
        "CI_COMMIT_BRANCH": branch,
        "CI_COMMIT_REF_NAME": branch,
        "CI_COMMIT_REF_PROTECTED": str(protected).lower(),
        "CI_DEFAULT_BRANCH": "main",
    }


def push_tag(tag: str, protected: bool = True) -> dict[str, str]:
    return {
        "CI_PIPELINE_SOURCE": "push",
        "CI_COMMIT_TAG": tag,
        "CI_COMMIT_REF_NAME": tag,
        "CI_COMMIT_REF_PROTECTED": str(protected).lower(),
        "CI_DEFAULT_BRANCH": "main",
    }


def schedule(environment: str | None, branch: str = "main") -> dict[str, str]:
    variables = push_branch(branch, source="schedule")
    if environment is not None:
        variables["DRIFT_ENVIRONMENT"] = environment
    return variables


def stacks(environment: str) -> list[str]:
    return [f"{environment}-{kind}" for kind in STACK_KINDS]


def jobs(prefix: str, environments: tuple[str, ...] = ENVIRONMENT_MODULES) -> set[str]:
    return {f"{prefix}:{stack}" for env in environments for stack in stacks(env)}


def scripts(job: Mapping[str, Any]) -> str:
    return "\n".join(str(line) for key in ("before_script", "script") for line in job.get(key, []))


def aws_jobs(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    """Jobs that reach AWS: Terraform through tools/ci/stack.py, and the pins check (make pins-registries)."""
    return {
        name: job for name, job in pipeline.jobs.items() if "tools/ci/stack.py" in scripts(job) or "make pins-registries" in scripts(job)
    }


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}", key
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}[{index}]")


# --- the file is valid for GitLab ------------------------------------------------------------


def check_jsonschema() -> str:
    tool = Path(sys.executable).parent / "check-jsonschema"
    if not tool.exists():
        pytest.fail("check-jsonschema is missing from the venv; run `make setup` (tests never skip a missing tool)")
    return str(tool)


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    # A proxy that refuses every connection: a check that needed the network would fail here.
    env = {**os.environ, "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}
    env = {**env, "http_proxy": env["HTTP_PROXY"], "https_proxy": env["HTTPS_PROXY"], "no_proxy": ""}
    return subprocess.run(
        [check_jsonschema(), "--builtin-schema", "vendor.gitlab-ci", "--no-cache", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_pipeline_validates_offline_against_the_gitlab_ci_schema_check_jsonschema_vendors() -> None:
    proc = validate(CI_FILE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok -- validation done" in proc.stdout


@pytest.mark.parametrize(
    ("broken", "replacement"),
    [
        ("      when: manual\n", "      when: sometimes\n"),
        ("  resource_group: terraform-prod\n", "  resource_group: [terraform-prod]\n"),
        ("    paths: [cdktf.out/]\n    access: developer\n", "    paths: [cdktf.out/]\n    access: everyone\n"),
    ],
)
def test_the_schema_check_rejects_a_broken_copy_of_the_pipeline(tmp_path: Path, broken: str, replacement: str) -> None:
    text = CI_FILE.read_text()
    assert broken in text
    copy = tmp_path / ".gitlab-ci.yml"
    copy.write_text(text.replace(broken, replacement, 1))
    assert validate(copy).returncode != 0


def test_the_jobs_validate_with_their_templates_merged_in(pipeline: Pipeline, tmp_path: Path) -> None:
    # The schema lets hidden templates (.diff, .deploy, ...) hold anything; check what the jobs get.
    resolved = {key: pipeline.raw[key] for key in ("workflow", "stages", "default", "variables")}
    resolved.update(pipeline.jobs)
    path = tmp_path / "resolved.gitlab-ci.yml"
    path.write_text(yaml.safe_dump(resolved, sort_keys=False))
    proc = validate(path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_pipeline_uses_no_custom_yaml_tags() -> None:
    # yaml.safe_load in these tests would refuse GitLab's !reference; anchors and extends suffice.
    assert "!reference" not in CI_FILE.read_text()


# --- the rules model itself --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "variables", "expected"),
    [
        ('$A == "x"', {"A": "x"}, True),
        ('$A == "x"', {}, False),
        ('$A != "x"', {}, True),
        ("$A == null", {}, True),
        ("$A", {"A": ""}, False),
        ("$A", {"A": "1"}, True),
        (r"$T =~ /^v\d+\.\d+$/", {"T": "v1.0"}, True),
        (r"$T =~ /^v\d+\.\d+$/", {"T": "v1.0-rc.1"}, False),
        (r"$T =~ /^v\d+\.\d+$/", {}, False),
        (r"$T !~ /rc/", {"T": "v1.0"}, True),
        ('$A == "1" || $B == "1" && $C == "1"', {"A": "1"}, True),
        ('($A == "1" || $B == "1") && $C == "1"', {"A": "1"}, False),
        ('$A == "1" && $B == "1"', {"A": "1", "B": "2"}, False),
    ],
)
def test_the_rules_model_evaluates_gitlab_expressions(expression: str, variables: dict[str, str], expected: bool) -> None:
    assert evaluate(expression, variables) is expected


@pytest.mark.parametrize("expression", ["$A = 'x'", '$A == "x" and $B', "$A =~ 'x'", '($A == "x"'])
def test_the_rules_model_refuses_syntax_it_does_not_implement(expression: str) -> None:
    with pytest.raises(UnsupportedSyntax):
        evaluate(expression, {"A": "x"})


def test_the_first_matching_rule_decides_and_never_excludes() -> None:
    rules: list[Mapping[str, Any]] = [{"if": '$A == "1"', "when": "never"}, {"if": "$A", "when": "manual", "allow_failure": False}]
    assert decide(rules, {"A": "1"}) is None
    assert decide(rules, {"A": "2"}) == Decision(when="manual", allow_failure=False)
    assert decide(rules, {}) is None
    with pytest.raises(UnsupportedSyntax):
        decide([{"changes": ["x"]}], {})


# --- which pipelines exist, and which jobs they run ------------------------------------------


@pytest.mark.parametrize(
    ("kind", "variables"),
    [
        ("a merge request", merge_request()),
        ("a push to main", push_branch("main")),
        ("an rc tag", push_tag("v1.0-rc.1")),
        ("a release tag", push_tag("v1.0")),
        ("a two-digit release tag", push_tag("v12.34")),
        ("a drift schedule on main", schedule("prod")),
    ],
)
def test_the_workflow_creates_a_pipeline_for(pipeline: Pipeline, kind: str, variables: dict[str, str]) -> None:
    assert pipeline.admits(variables), kind


@pytest.mark.parametrize(
    ("kind", "variables"),
    [
        ("a push to a feature branch (its merge request builds it)", push_branch("feature/x", protected=False)),
        ("a patch-level tag", push_tag("v1.0.1")),
        ("a malformed rc tag", push_tag("v1.0-rc1")),
        ("a tag without the v", push_tag("1.0")),
        ("a run from the web UI", push_branch("main", source="web")),
        ("an API trigger", push_branch("main", source="trigger")),
        ("a schedule on another branch", schedule("dev", branch="feature/x")),
    ],
)
def test_the_workflow_creates_no_pipeline_for(pipeline: Pipeline, kind: str, variables: dict[str, str]) -> None:
    assert not pipeline.admits(variables), kind


def test_a_merge_request_runs_test_synth_and_a_diff_of_every_environment_and_stack(pipeline: Pipeline) -> None:
    ran = pipeline.run(merge_request())
    assert ran is not None
    assert set(ran) == {"test", "synth", "pins:registries"} | jobs("diff")
    assert all(decision.when == "on_success" for decision in ran.values())


def test_a_push_to_main_tests_synthesizes_and_deploys_dev_only(pipeline: Pipeline) -> None:
    ran = pipeline.run(push_branch("main"))
    assert ran is not None
    assert set(ran) == {"test", "synth", "pins:registries"} | jobs("deploy", ("dev",))
    assert ran["deploy:dev-platform"].when == "on_success"


def test_an_rc_tag_tests_synthesizes_and_deploys_stage_only(pipeline: Pipeline) -> None:
    ran = pipeline.run(push_tag("v1.0-rc.1"))
    assert ran is not None
    assert set(ran) == {"test", "synth"} | jobs("deploy", ("stage",))
    assert ran["deploy:stage-platform"].when == "on_success"


def test_a_release_tag_tests_synthesizes_and_offers_the_prod_deploy(pipeline: Pipeline) -> None:
    ran = pipeline.run(push_tag("v1.0"))
    assert ran is not None
    assert set(ran) == {"test", "synth"} | jobs("deploy", ("prod",))


@pytest.mark.parametrize(
    "variables", [push_branch("main", protected=False), push_tag("v1.0-rc.1", protected=False), push_tag("v1.0", protected=False)]
)
def test_an_unprotected_ref_is_tested_but_deploys_nothing(pipeline: Pipeline, variables: dict[str, str]) -> None:
    ran = pipeline.run(variables)
    assert ran is not None
    assert set(ran) - {"pins:registries"} == {"test", "synth"}


def test_the_weekly_pins_schedule_synthesizes_once_and_checks_every_pin_against_the_registries(pipeline: Pipeline) -> None:
    variables = {**schedule(None), "PINS_CHECK": "true"}
    ran = pipeline.run(variables)
    assert ran is not None
    assert set(ran) == {"synth", "pins:registries"}
    assert "make pins-registries" in scripts(pipeline.jobs["pins:registries"])


@pytest.mark.parametrize("environment", ENVIRONMENT_MODULES)
def test_a_drift_schedule_checks_only_its_environment(pipeline: Pipeline, environment: str) -> None:
    ran = pipeline.run(schedule(environment))
    assert ran is not None
    assert set(ran) == {"synth:drift"} | jobs("drift", (environment,))


def test_a_drift_schedule_without_an_environment_runs_only_the_synth_that_fails_on_it(pipeline: Pipeline) -> None:
    ran = pipeline.run(schedule(None))
    assert ran is not None
    assert set(ran) == {"synth:drift"}
    assert 'delivery.py checkout "$DRIFT_ENVIRONMENT"' in scripts(pipeline.jobs["synth:drift"])


ALL_PIPELINES = [merge_request(), push_branch("main"), push_tag("v1.0-rc.1"), push_tag("v1.0"), *(schedule(e) for e in ENVIRONMENT_MODULES)]


@pytest.mark.parametrize("variables", ALL_PIPELINES, ids=lambda v: v.get("CI_COMMIT_REF_NAME", "") + "/" + v["CI_PIPELINE_SOURCE"])
def test_every_job_a_job_needs_is_in_the_same_pipeline(pipeline: Pipeline, variables: dict[str, str]) -> None:
    ran = pipeline.run(variables)
    assert ran is not None
    for name in ran:
        missing = set(needs_of(pipeline.jobs[name])) - set(ran)
        assert not missing, f"{name} needs {missing}, which this pipeline does not run"


@pytest.mark.parametrize("variables", ALL_PIPELINES, ids=lambda v: v.get("CI_COMMIT_REF_NAME", "") + "/" + v["CI_PIPELINE_SOURCE"])
def test_each_pipeline_synthesizes_exactly_once(pipeline: Pipeline, variables: dict[str, str]) -> None:
    ran = pipeline.run(variables)
    assert ran is not None
    synthesizers = [name for name in ran if "make synth" in scripts(pipeline.jobs[name])]
    assert len(synthesizers) == 1, synthesizers


# --- approval, ordering, serialization ------------------------------------------------------


def test_the_prod_deploy_is_manual_on_a_protected_production_environment_and_blocks_the_pipeline(pipeline: Pipeline) -> None:
    ran = pipeline.run(push_tag("v1.0"))
    assert ran is not None
    assert ran["deploy:prod-platform"] == Decision(when="manual", allow_failure=False)
    job = pipeline.jobs["deploy:prod-platform"]
    assert job["environment"] == {"name": "prod", "deployment_tier": "production"}
    assert job.get("manual_confirmation")


def test_no_prod_deploy_can_start_without_passing_the_manual_approval(pipeline: Pipeline) -> None:
    ran = pipeline.run(push_tag("v1.0"))
    assert ran is not None
    prod_deploys = [name for name, job in pipeline.jobs.items() if (job.get("environment") or {}).get("name") == "prod"]
    assert sorted(prod_deploys) == sorted(jobs("deploy", ("prod",)))

    def gated(name: str) -> bool:
        if ran[name].when == "manual":
            return True
        upstream = [n for n in needs_of(pipeline.jobs[name]) if n.startswith("deploy:prod-")]
        return bool(upstream) and all(gated(u) for u in upstream)

    assert all(gated(name) for name in prod_deploys)


@pytest.mark.parametrize("environment", ENVIRONMENT_MODULES)
def test_the_platform_is_deployed_before_the_bootstrap_and_only_after_the_tests(pipeline: Pipeline, environment: str) -> None:
    platform, bootstrap = (pipeline.jobs[f"deploy:{stack}"] for stack in stacks(environment))
    assert f"deploy:{environment}-platform" in needs_of(bootstrap)
    assert {"synth", "test"} <= set(needs_of(platform))


def test_each_environment_has_one_resource_group_shared_by_its_deploy_and_drift_jobs(pipeline: Pipeline) -> None:
    groups: dict[str, set[str]] = {}
    for env in ENVIRONMENT_MODULES:
        for name in jobs("deploy", (env,)) | jobs("drift", (env,)):
            groups.setdefault(env, set()).add(pipeline.jobs[name].get("resource_group", "<none>"))
    assert all(len(names) == 1 for names in groups.values()), groups
    assert len({next(iter(names)) for names in groups.values()}) == len(ENVIRONMENT_MODULES), groups
    assert "<none>" not in set().union(*groups.values())


def test_diff_jobs_take_no_resource_group_because_they_never_write_or_lock_state(pipeline: Pipeline) -> None:
    for name in jobs("diff"):
        assert "resource_group" not in pipeline.jobs[name], name


def test_deploys_and_drift_checks_are_never_interrupted_and_reviews_are(pipeline: Pipeline) -> None:
    assert pipeline.raw["workflow"]["auto_cancel"] == {"on_new_commit": "interruptible"}
    for name in jobs("deploy") | jobs("drift"):
        assert pipeline.jobs[name]["interruptible"] is False, name
    for name in {"test", "synth"} | jobs("diff"):
        assert pipeline.jobs[name]["interruptible"] is True, name


def test_only_bootstrap_diffs_may_fail_and_only_with_the_waiting_for_platform_status(pipeline: Pipeline) -> None:
    for name, job in pipeline.jobs.items():
        allowed = job.get("allow_failure", False)
        if name.startswith("diff:") and name.endswith("-bootstrap"):
            assert allowed == {"exit_codes": [3]}, name
        else:
            assert allowed is False, name


# --- stacks, environments and the synth output ------------------------------------------------


def test_diff_deploy_and_drift_jobs_cover_exactly_the_platform_and_bootstrap_stacks_of_every_environment(pipeline: Pipeline) -> None:
    for prefix in ("diff", "deploy", "drift"):
        assert {n for n in pipeline.jobs if n.startswith(f"{prefix}:")} == jobs(prefix), prefix
    for name in jobs("diff") | jobs("deploy") | jobs("drift"):
        assert pipeline.jobs[name]["variables"]["STACK"] == name.split(":", 1)[1], name
    assert not any(name.endswith("-state") for name in pipeline.jobs), "state stacks are applied by hand"


def test_jobs_after_the_synth_reuse_its_output_and_never_synthesize_again(pipeline: Pipeline) -> None:
    for name in jobs("diff") | jobs("deploy"):
        assert {"job": "synth", "artifacts": True} in pipeline.jobs[name]["needs"], name
    for name in jobs("drift"):
        assert {"job": "synth:drift", "artifacts": True} in pipeline.jobs[name]["needs"], name
    for name in jobs("diff") | jobs("deploy") | jobs("drift"):
        assert not re.search(r"make (synth|setup|cli-synth)|main\.py|cdktf (synth|diff|deploy)", scripts(pipeline.jobs[name])), name
    for name in ("synth", "synth:drift"):
        artifacts = pipeline.jobs[name]["artifacts"]
        assert artifacts["paths"] == ["cdktf.out/"] and artifacts["expire_in"], name


def test_the_synth_job_checks_that_the_committed_snapshots_are_current(pipeline: Pipeline) -> None:
    assert pipeline.jobs["synth"]["script"] == ["make synth", "make snapshots-check"]


def test_every_make_target_the_pipeline_calls_exists_in_the_makefile(pipeline: Pipeline) -> None:
    targets = set(re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), re.MULTILINE))
    called = {target for job in pipeline.jobs.values() for target in re.findall(r"\bmake ([a-z][a-z-]*)", scripts(job))}
    assert called, "the pipeline runs its work through make"
    assert called <= targets, f"missing Makefile targets: {sorted(called - targets)}"


def test_the_tag_patterns_in_the_rules_are_the_ones_the_delivery_module_uses(pipeline: Pipeline) -> None:
    rules = yaml.safe_dump(pipeline.raw["workflow"]) + yaml.safe_dump(pipeline.raw[".rules"])
    patterns = set(re.findall(r"=~ /([^/]+)/", rules))
    assert patterns == {delivery.RC_TAG.pattern, delivery.RELEASE_TAG.pattern}
    for tag in ("v1.0", "v1.0-rc.1", "v10.20-rc.30", "v1.0.1", "v1.0-rc1", "1.0", "v1"):
        gitlab_rc = evaluate(f"$T =~ /{delivery.RC_TAG.pattern}/", {"T": tag})
        gitlab_release = evaluate(f"$T =~ /{delivery.RELEASE_TAG.pattern}/", {"T": tag})
        assert (gitlab_rc, gitlab_release) == (bool(delivery.RC_TAG.match(tag)), bool(delivery.RELEASE_TAG.match(tag))), tag


def test_the_delivery_module_knows_every_environment() -> None:
    assert tuple(delivery.tracks()) == ENVIRONMENT_MODULES


def test_the_committed_pipeline_is_what_the_registry_generates() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "ci" / "pipeline.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_the_pipeline_generator_refuses_a_file_without_its_markers(tmp_path: Path) -> None:
    broken = tmp_path / "gitlab-ci.yml"
    broken.write_text(CI_FILE.read_text().replace("# <<< generated (environments)", ""))
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "ci" / "pipeline.py"), "--check", "--file", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "generated (environments)" in proc.stderr


# --- credentials and artifacts ---------------------------------------------------------------


def test_no_job_and_no_global_variable_carries_static_aws_keys(pipeline: Pipeline) -> None:
    for path, value in walk(pipeline.raw):
        text = str(value)
        assert not any(key in text for key in STATIC_KEY_NAMES), path
        assert not re.search(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b", text), path
    for job in pipeline.jobs.values():
        assert not set(job.get("variables", {})) & set(STATIC_KEY_NAMES)


def test_every_job_that_reaches_aws_has_an_id_token_for_sts_and_no_other_job_has_one(pipeline: Pipeline) -> None:
    touching = aws_jobs(pipeline)
    assert set(touching) == jobs("diff") | jobs("deploy") | jobs("drift") | {"pins:registries"}
    for name, job in pipeline.jobs.items():
        if name in touching:
            assert job["id_tokens"] == {"AWS_ID_TOKEN": {"aud": "sts.amazonaws.com"}}, name
        else:
            assert "id_tokens" not in job, f"{name} does not reach AWS and must not get a token"


def test_no_artifact_is_public(pipeline: Pipeline) -> None:
    with_artifacts = {name: job["artifacts"] for name, job in pipeline.jobs.items() if job.get("artifacts")}
    assert with_artifacts
    for name, artifacts in with_artifacts.items():
        assert artifacts.get("access") in ("developer", "maintainer", "none"), name
        assert artifacts.get("public", False) is False, name


def test_diff_jobs_leave_a_terraform_report_for_the_merge_request_widget(pipeline: Pipeline) -> None:
    for name in jobs("diff"):
        job = pipeline.jobs[name]
        assert job["artifacts"]["reports"] == {"terraform": "reports/tfplan.json"}, name
        assert "--report reports/tfplan.json" in scripts(job), name
        assert job["artifacts"]["access"] == "developer", name


# --- image and caches -----------------------------------------------------------------------


def test_the_ci_image_is_pinned_to_the_pipfiles_python(pipeline: Pipeline) -> None:
    image = pipeline.raw["default"]["image"]
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-bookworm", image)
    assert match, f"{image} is not pinned to a patch release"
    pipfile_python = re.search(r'python_version = "(\d+\.\d+)"', (REPO / "Pipfile").read_text())
    assert pipfile_python and f"{match.group(1)}.{match.group(2)}" == pipfile_python.group(1)


def caches(job: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["key"]["prefix"]: entry for entry in job.get("cache", [])}


def test_caches_are_keyed_on_the_files_they_are_built_from(pipeline: Pipeline) -> None:
    make_caches = caches(pipeline.jobs["synth"])
    assert set(make_caches) == {"python", "node", "node-tools", "jsii", "ci-tools"}
    assert make_caches["node-tools"]["key"]["files"] == ["tools/node-tools/package-lock.json", "Makefile"], "the Makefile pins Node 24"
    assert "tools/node-tools/node_modules/" in make_caches["node-tools"]["paths"]
    assert make_caches["python"]["key"]["files"][0] == "Pipfile.lock" and ".venv/" in make_caches["python"]["paths"]
    assert make_caches["node"]["key"]["files"][0] == "package-lock.json" and "node_modules/" in make_caches["node"]["paths"]
    assert make_caches["jsii"]["key"]["files"] == ["Pipfile.lock"]
    assert make_caches["ci-tools"]["key"]["files"] == ["tools/ci/install_tools.py", "tools/ci/awscli-requirements.txt"]
    for entry in make_caches.values():
        for path in entry["paths"]:
            assert not path.startswith("/") and ".." not in path, path


def test_the_tool_caches_point_into_cached_paths(pipeline: Pipeline) -> None:
    cached = {path.rstrip("/") for entry in caches(pipeline.jobs["test"]).values() for path in entry["paths"]}
    for variable in (
        "PIP_CACHE_DIR",
        "PIPENV_CACHE_DIR",
        "npm_config_cache",
        "JSII_RUNTIME_PACKAGE_CACHE_ROOT",
        "CI_TOOLS_DIR",
        "TERRAFORM_PROVIDERS",
    ):
        value = pipeline.variables[variable]
        assert value.startswith("$CI_PROJECT_DIR/"), variable
        assert value.removeprefix("$CI_PROJECT_DIR/") in cached, variable


def test_the_jsii_cache_variable_is_the_one_the_jsii_runtime_reads() -> None:
    import jsii

    runtime = Path(jsii.__file__).parent / "_embedded" / "jsii" / "lib__program.js"
    assert "process.env.JSII_RUNTIME_PACKAGE_CACHE_ROOT" in runtime.read_text()


def test_only_the_jobs_that_build_the_caches_write_them(pipeline: Pipeline) -> None:
    for name, job in pipeline.jobs.items():
        writes = {prefix for prefix, entry in caches(job).items() if entry.get("policy", "pull-push") != "pull"}
        expected = {"python", "node", "node-tools", "jsii", "ci-tools"} if name in ("test", "synth") else set()
        assert writes == expected, name
