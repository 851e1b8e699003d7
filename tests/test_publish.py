"""Publishing: the Pages workflow runs the tests and deploys the site with the platform's token only;
`make serve` serves a built site over HTTP on this machine."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

from book import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def test_workflow_tests_then_builds_then_deploys(workflow):
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    commands = "\n".join(step.get("run", "") for step in steps(build))
    assert ".ci/run" in commands or "make test" in commands  # .ci/run: apt chromium + driver, then make test
    assert "make site" in commands
    assert "apt-get install" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python:3.11" in str(build.get("container", "")) or any(
        step.get("uses", "").startswith("actions/setup-python") for step in steps(build))
    uploads = [step for step in steps(build) if step.get("uses", "").startswith("actions/upload-pages-artifact")]
    assert uploads and uploads[0]["with"]["path"] == "_build/site"
    assert deploy["needs"] == "build"
    assert any(step.get("uses", "").startswith("actions/deploy-pages") for step in steps(deploy))
    assert deploy["environment"]["name"] == "github-pages"


def test_workflow_needs_no_secret_beyond_the_platform_token(workflow):
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    text = WORKFLOW.read_text(encoding="utf-8")
    assert re.findall(r"secrets\.(\w+)", text) == []
    assert on_push_to_main(workflow)


def on_push_to_main(workflow: dict) -> bool:
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on:` key as True
    return "main" in triggers["push"]["branches"]


def test_serve_serves_a_built_site(tmp_path):
    (tmp_path / "index.html").write_text("<!DOCTYPE html><title>t</title>")
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "fig-a.csv").write_text("Option,Count\nSales,66\n")
    process = subprocess.Popen([sys.executable, "-m", "kamsurvey", "serve", "--port", "0", "--dir", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        base = match.group(0)
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(base + "index.html", timeout=5) as response:
                    assert response.status == 200 and b"<title>t</title>" in response.read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        with urllib.request.urlopen(base + "figures/fig-a.csv", timeout=5) as response:
            assert response.headers.get_content_type() == "text/csv"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_says_what_to_do_when_nothing_is_built(tmp_path):
    result = subprocess.run([sys.executable, "-m", "kamsurvey", "serve", "--dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "no index.html" in result.stderr
