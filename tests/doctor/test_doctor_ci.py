"""The CI kit: the workflow files are valid and every faultlab command in them is a real one.

What can be tested without a CI service: both YAML files parse, validate against the
GitHub-workflow and GitLab-CI JSON Schemas (vendored by check-jsonschema, when installed),
have the structure docs/ci.md promises (sudo, tox cache, JUnit and artifacts uploaded, the
summary in the job summary, a shard matrix 1..N), and each ``faultlab`` command line they
contain is accepted by the CLI's own parser.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from ci_files import load_yaml, vendored_schema

from harness import report

REPO = Path(__file__).resolve().parents[2]
GITHUB = REPO / "ci" / "github" / "faultlab.yml"
GITLAB = REPO / "ci" / "gitlab" / ".gitlab-ci.yml"
SAMPLE_VALUES = {
    "${{ matrix.shard }}": "2",
    '"$FAULTLAB"': "faultlab",
    "$FAULTLAB": "faultlab",
    '"$SHARD_DIR': '"artifacts/shard-2',
    '"$CI_NODE_INDEX/$CI_NODE_TOTAL"': "2/4",
}


def github_steps(job: str) -> list[dict[str, Any]]:
    return load_yaml(GITHUB)["jobs"][job]["steps"]


def step_using(steps: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [step for step in steps if str(step.get("uses", "")).startswith(action + "@")]


def faultlab_commands(lines: list[str]) -> list[list[str]]:
    """Every ``faultlab ...`` invocation in shell lines, with CI variables given sample values."""
    found = []
    for line in lines:
        for variable, value in SAMPLE_VALUES.items():
            line = line.replace(variable, value)
        words = shlex.split(line.split("&&")[0].split(">>")[0])
        if "faultlab" in words:
            found.append(words[words.index("faultlab") + 1 :])
    return found


def parse_with_cli(argv: list[str]) -> Any:
    from harness.cli import build_parser

    return build_parser().parse_args(argv)


def test_github_workflow_matches_the_published_schema() -> None:
    import jsonschema

    jsonschema.validate(load_yaml(GITHUB), vendored_schema("github-workflows.json"))


def test_gitlab_pipeline_matches_the_published_schema() -> None:
    import jsonschema

    jsonschema.validate(load_yaml(GITLAB), vendored_schema("gitlab-ci.json"))


def test_github_shard_matrix_is_1_to_n_and_the_run_uses_the_same_n() -> None:
    job = load_yaml(GITHUB)["jobs"]["scenarios"]
    shards = job["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1))
    assert job["strategy"]["fail-fast"] is False  # one failing shard must not cancel the others
    runs = " ".join(step.get("run", "") for step in job["steps"])
    assert f"--shard ${{{{ matrix.shard }}}}/{len(shards)}" in runs


def test_github_runs_faultlab_under_sudo_from_the_cached_tox_env() -> None:
    steps = github_steps("scenarios")
    cache = step_using(steps, "actions/cache")
    assert cache and cache[0]["with"]["path"] == ".tox"
    assert "hashFiles('pyproject.toml', 'tox.ini')" in cache[0]["with"]["key"]
    runs = [step["run"] for step in steps if "run" in step]
    assert any("tox run -e py --notest" in run for run in runs)
    assert any(run.startswith('sudo "$FAULTLAB" run') for run in runs)
    assert load_yaml(GITHUB)["env"]["FAULTLAB"] == ".tox/py/bin/faultlab"


def test_github_uploads_junit_and_artifacts_even_when_scenarios_fail() -> None:
    for job in ("tests", "scenarios", "rootless"):
        uploads = step_using(github_steps(job), "actions/upload-artifact")
        assert uploads, f"job {job} uploads nothing"
        assert all(step.get("if") == "always()" for step in uploads), job
    shard_upload = step_using(github_steps("scenarios"), "actions/upload-artifact")[0]
    assert "matrix.shard" in shard_upload["with"]["name"]  # one artifact per shard, no clash
    runs = " ".join(step.get("run", "") for step in github_steps("scenarios"))
    assert '--junit-xml "$SHARD_DIR/junit.xml"' in runs


def test_github_job_summary_is_the_report_modules_markdown_file() -> None:
    steps = github_steps("scenarios")
    summary = [step for step in steps if "GITHUB_STEP_SUMMARY" in step.get("run", "")]
    assert len(summary) == 1 and summary[0]["if"] == "always()"
    assert f"$SHARD_DIR/{report.SUMMARY_NAME}" in summary[0]["run"]


def test_every_faultlab_command_in_the_github_workflow_exists_in_the_cli() -> None:
    jobs = load_yaml(GITHUB)["jobs"]
    lines = [step["run"] for job in jobs.values() for step in job["steps"] if "run" in step]
    commands = faultlab_commands([line.replace("\n", " ") for line in lines])
    assert {argv[0] for argv in commands} == {"doctor", "run"}
    for argv in commands:
        args = parse_with_cli(argv)
        assert args.command == argv[0]
    shard_run = [argv for argv in commands if "--shard" in argv][0]
    assert parse_with_cli(shard_run).shard == "2/4"


def test_gitlab_scenarios_job_is_parallel_and_shards_by_node_index() -> None:
    pipeline = load_yaml(GITLAB)
    job = pipeline["scenarios"]
    assert isinstance(job["parallel"], int) and job["parallel"] >= 2
    script = " ".join(job["script"])
    assert '--shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"' in script
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == "artifacts/shard-*/junit.xml"
    assert pipeline["tests"]["artifacts"]["reports"]["junit"] == "junit/tests.xml"


def test_gitlab_needs_a_privileged_runner_and_caches_the_tox_env() -> None:
    pipeline = load_yaml(GITLAB)
    text = GITLAB.read_text()
    assert "privileged = true" in text and "passwordless sudo" in text
    default = pipeline["default"]
    assert default["tags"] == ["faultlab-privileged"]
    assert default["cache"]["key"]["files"] == ["pyproject.toml", "tox.ini"]
    assert ".tox/" in default["cache"]["paths"]


def test_every_faultlab_command_in_the_gitlab_pipeline_exists_in_the_cli() -> None:
    pipeline = load_yaml(GITLAB)
    lines = [
        line
        for job in pipeline.values()
        if isinstance(job, dict)
        for key in ("before_script", "script")
        for line in job.get(key, [])
    ]
    commands = faultlab_commands([line.replace("$SUDO ", "") for line in lines])
    assert {argv[0] for argv in commands} == {"doctor", "run"}
    for argv in commands:
        assert parse_with_cli(argv).command == argv[0]


def test_docs_show_the_same_files_as_ci() -> None:
    """docs/ci.md points at the working files instead of a copy that could drift."""
    doc = (REPO / "docs" / "ci.md").read_text()
    assert "ci/github/faultlab.yml" in doc and "ci/gitlab/.gitlab-ci.yml" in doc
    assert re.search(r"privileged\s*=\s*true", doc)
