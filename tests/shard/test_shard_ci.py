"""The CI kit for sharded runs: each file validates against its published schema (GitHub
workflow and GitLab CI: vendored by check-jsonschema; Kubernetes: kubernetes-validate's
schemas), has the structure docs/ci.md promises (plan -> matrix -> per-shard artifacts -> merge
-> summary), and every faultlab command in it is accepted by the CLI's parser. ``faultlab plan``
prints a matrix GitHub's ``fromJSON`` takes and a child pipeline GitLab's schema takes."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import yaml
from ci_files import load_yaml, vendored_schema

from harness.cli import build_parser, main
from harness.plan import Group, gitlab_pipeline, matrix, shard_counts

REPO = Path(__file__).resolve().parents[2]
GITHUB = REPO / "ci" / "github" / "explore.yml"
GITLAB = REPO / "ci" / "gitlab" / "explore.gitlab-ci.yml"
KUBERNETES = REPO / "ci" / "kubernetes" / "explore-indexed-job.yaml"


def sample_groups() -> list[Group]:
    return [
        Group("explore", "host", "igmpd", 3000.0, 322, ("t.yaml", "--router", "igmpd")),
        Group(
            "explore",
            "6.1.0-57-amd64",
            "pimd",
            30000.0,
            180,
            ("t.yaml", "--router", "pimd", "--kernel", "6.1.0-57-amd64"),
        ),  # fmt: skip
    ]


def test_the_github_workflow_matches_the_published_schema() -> None:
    import jsonschema

    jsonschema.validate(load_yaml(GITHUB), vendored_schema("github-workflows.json"))


def test_the_github_workflow_plans_fans_out_and_merges() -> None:
    jobs = load_yaml(GITHUB)["jobs"]
    assert jobs["plan"]["outputs"]["matrix"] == "${{ steps.plan.outputs.matrix }}"
    shard = jobs["shard"]
    assert shard["needs"] == "plan"
    assert shard["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert shard["strategy"]["fail-fast"] is False
    runs = [step.get("run", "") for step in shard["steps"]]
    assert 'sudo "$FAULTLAB" ${{ matrix.args }}' in runs
    upload = [s for s in shard["steps"] if str(s.get("uses", "")).startswith("actions/upload")]
    assert upload[0]["with"]["name"] == "${{ matrix.artifact }}"  # each its own name
    assert upload[0]["with"]["path"] == "${{ matrix.out }}" and upload[0]["if"] == "always()"
    plan_uploads = [s for s in jobs["plan"]["steps"] if str(s.get("uses", "")).startswith(
        "actions/upload")]  # fmt: skip
    assert plan_uploads[0]["with"] == {"name": "plan-sites", "path": "plan/sites.json"}
    downloads = [s for s in shard["steps"] if str(s.get("uses", "")).startswith(
        "actions/download")]  # fmt: skip
    assert downloads[0]["with"] == {"name": "plan-sites", "path": "plan"}
    assert "--sites-out plan/sites.json" in " ".join(
        s.get("run", "") for s in jobs["plan"]["steps"]
    )
    merge = jobs["merge"]
    assert merge["needs"] == ["plan", "shard"] and merge["if"].startswith("always()")
    steps = merge["steps"]
    download = [s for s in steps if str(s.get("uses", "")).startswith("actions/download")]
    assert download[0]["with"] == {"pattern": "faultlab-*", "path": "artifacts/shards"}
    text = " ".join(s.get("run", "") for s in steps)
    assert "merge artifacts/shards/* --out artifacts/merged" in text
    assert 'artifacts/merged/summary.md >> "$GITHUB_STEP_SUMMARY"' in text
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload")]
    assert uploads[0]["with"]["path"] == "artifacts/merged"
    assert not uploads[0]["with"]["name"].startswith("faultlab-")  # not downloaded as a shard


def faultlab_argv(line: str, values: dict[str, str]) -> list[str]:
    for variable, value in values.items():
        line = line.replace(variable, value)
    words = shlex.split(line)
    return words[words.index("faultlab") + 1 :]


def test_every_faultlab_command_of_the_github_workflow_is_accepted_by_the_cli() -> None:
    jobs = load_yaml(GITHUB)["jobs"]
    job = matrix(sample_groups(), [2, 3])[0]
    values = {
        '"$FAULTLAB"': "faultlab",
        "${{ matrix.args }}": job["args"],
        '"$COMMAND" $PATHS': "explore tests/explore/data/igmpd.yaml",
        '"$ROUTERS"': "igmpd",
        "$kernels": "--kernel host",
        '"$TARGET"': "20m",
    }
    lines = [
        line
        for job in jobs.values()
        for step in job["steps"]
        for line in step.get("run", "").splitlines()
        if '"$FAULTLAB"' in line
    ]
    commands = [faultlab_argv(line.split(">")[0], values) for line in lines]
    assert sorted(argv[0] for argv in commands) == ["explore", "merge", "plan"]
    for argv in commands:
        assert build_parser().parse_args(argv).command == argv[0]


def test_the_gitlab_pipeline_matches_the_published_schema_and_triggers_the_plan() -> None:
    import jsonschema

    pipeline = load_yaml(GITLAB)
    jsonschema.validate(pipeline, vendored_schema("gitlab-ci.json"))
    assert pipeline["explore"]["trigger"]["include"] == [
        {"artifact": "faultlab-child.yml", "job": "plan"}
    ]
    assert pipeline["explore"]["trigger"]["strategy"] == "depend"
    plan_line = [line for line in pipeline["plan"]["script"] if "plan" in line][-1]
    argv = faultlab_argv(
        plan_line.split(">")[0],
        {'"$FAULTLAB"': "faultlab", '"$FAULTLAB_COMMAND" $FAULTLAB_PATHS': "explore t.yaml",
         '"$FAULTLAB_ROUTERS"': "igmpd", "$KERNELS": "", '"$FAULTLAB_TARGET"': "20m"},
    )  # fmt: skip
    args = build_parser().parse_args(argv)
    assert args.command == "plan" and args.format == "gitlab"


def test_the_child_pipeline_plan_writes_matches_gitlabs_schema() -> None:
    import jsonschema

    groups = sample_groups()
    with_sites = Group("explore", "host", "igmpd", 100.0, 3, ("t.yaml", "--sites", "plan/s.json"))
    groups.append(with_sites)
    text = gitlab_pipeline(matrix(groups, shard_counts(groups, 1200.0, 200)))
    child = yaml.safe_load(text)
    jsonschema.validate(child, vendored_schema("gitlab-ci.json"))
    shards = [name for name, job in child.items() if isinstance(job, dict) and
              job.get("stage") == "shards"]  # fmt: skip
    assert len(shards) == sum(shard_counts(groups, 1200.0, 200))
    for name in shards:
        script = child[name]["script"][0].replace("$SUDO ", "")
        argv = faultlab_argv(script, {'"$FAULTLAB"': "faultlab"})
        assert build_parser().parse_args(argv).command == "explore"
        assert child[name]["artifacts"]["when"] == "always"
    assert child["merge"]["artifacts"]["reports"]["junit"] == "artifacts/merged/junit.xml"
    needs = [child[name].get("needs") for name in shards]
    assert needs.count([{"pipeline": "$PARENT_PIPELINE_ID", "job": "plan"}]) == 1
    parent = load_yaml(GITLAB)
    assert parent["explore"]["variables"] == {"PARENT_PIPELINE_ID": "$CI_PIPELINE_ID"}
    assert "plan/sites.json" in parent["plan"]["artifacts"]["paths"]


def test_the_kubernetes_manifests_match_the_published_schemas() -> None:
    kubernetes_validate = pytest.importorskip(
        "kubernetes_validate", reason="kubernetes-validate ships the Kubernetes schemas"
    )
    from kubernetes_validate.utils import latest_version

    documents = list(yaml.safe_load_all(KUBERNETES.read_text()))
    assert [d["metadata"]["name"] for d in documents] == [
        "faultlab-plan", "faultlab-explore", "faultlab-explore-kernel-lab", "faultlab-merge"]  # fmt: skip
    for document in documents:
        kubernetes_validate.validate(document, latest_version(), strict=True)


def test_the_indexed_jobs_are_privileged_shard_by_the_completion_index_and_kvm_for_the_lab() -> (
    None
):
    plan, explore, lab, merge = yaml.safe_load_all(KUBERNETES.read_text())
    plan_line = plan["spec"]["template"]["spec"]["containers"][0]["args"][0].split(">")[0]
    plan_args = build_parser().parse_args(faultlab_argv(plan_line, {}))
    assert plan_args.command == "plan" and str(plan_args.sites_out) == "/results/sites.json"
    for job in (explore, lab):
        spec = job["spec"]
        assert spec["completionMode"] == "Indexed"
        container = spec["template"]["spec"]["containers"][0]
        assert container["securityContext"]["privileged"] is True
        line = container["args"][0]
        argv = faultlab_argv(line, {'"$JOB_COMPLETION_INDEX"': "0"})
        args = build_parser().parse_args(argv)
        assert args.shard_index0 == "0" and int(args.shard_count) == spec["completions"]
    native = faultlab_argv(explore["spec"]["template"]["spec"]["containers"][0]["args"][0], {})
    assert str(build_parser().parse_args(native).sites) == "/results/sites.json"
    lab_spec = lab["spec"]["template"]["spec"]
    assert {"name": "kvm", "mountPath": "/dev/kvm"} in lab_spec["containers"][0]["volumeMounts"]
    assert {"name": "kvm", "hostPath": {"path": "/dev/kvm", "type": "CharDevice"}} in lab_spec[
        "volumes"
    ]
    assert "--kernel" in lab_spec["containers"][0]["args"][0]
    merge_args = faultlab_argv(merge["spec"]["template"]["spec"]["containers"][0]["args"][0], {})
    assert build_parser().parse_args(merge_args).command == "merge"


def test_plan_chooses_shards_for_the_target_and_keeps_within_the_job_limit() -> None:
    groups = sample_groups()
    assert shard_counts(groups, 1200.0, 256) == [3, 25]  # ceil(3000/1200), ceil(30000/1200)
    assert sum(shard_counts(groups, 60.0, 40)) == 40
    assert shard_counts(groups, 10**6, 256) == [1, 1]
    jobs = matrix(groups, [2, 1])
    assert [j["shard"] for j in jobs] == ["1/2", "2/2", "1/1"]
    assert len({j["artifact"] for j in jobs}) == 3 and all(
        j["artifact"].startswith("faultlab-") for j in jobs
    )
    assert "--shard 2/2" in jobs[1]["args"] and "--shard" not in jobs[2]["args"]
    for job in jobs:
        args = build_parser().parse_args(shlex.split(job["args"]))
        assert str(args.out) == job["out"]


def test_plan_run_prints_a_matrix_for_fromjson(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", "run", str(REPO / "scenarios" / "protocol"), "--kernel", "host",
                 "--kernel", "6.1.0-57-amd64", "--target", "60s"])  # fmt: skip
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["include"]  # any other key would be a matrix dimension
    total = len(data["include"])
    assert total > 1 and {j["shard"] for j in data["include"]} == {
        f"{i}/{total}" for i in range(1, total + 1)
    }
    args = build_parser().parse_args(shlex.split(data["include"][0]["args"]))
    assert args.kernels == ["host", "6.1.0-57-amd64"] and args.shard == f"1/{total}"


def test_plan_refuses_a_bad_target(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "run", "--target", "soon"]) == 2
    assert "--target 'soon'" in capsys.readouterr().err
