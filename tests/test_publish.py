"""Publishing: the Pages workflow runs the tests on every pull request and push, and deploys the site from main
only, with the platform's token only; `make serve` serves a built site over HTTP on this machine, also through the
symbolic link _build/site is, switching to a new site between two requests."""

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
    assert "archive --check" in (ROOT / "Makefile").read_text(encoding="utf-8")  # make test checks every archive
    assert "python:3.11" in str(build.get("container", "")) or any(
        step.get("uses", "").startswith("actions/setup-python") for step in steps(build))
    uploads = [step for step in steps(build) if step.get("uses", "").startswith("actions/upload-pages-artifact")]
    # _build/site is a symbolic link: the folder it points to is uploaded
    site_step = next(step for step in steps(build) if "make site" in step.get("run", ""))
    assert uploads and uploads[0]["with"]["path"] == f"${{{{ steps.{site_step['id']}.outputs.folder }}}}"
    assert "readlink -f _build/site" in site_step["run"]
    assert deploy["needs"] == "build"
    assert any(step.get("uses", "").startswith("actions/deploy-pages") for step in steps(deploy))
    assert deploy["environment"]["name"] == "github-pages"


def test_pull_requests_are_checked_and_only_main_deploys(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on:` key as True
    assert "pull_request" in triggers and "main" in triggers["push"]["branches"]
    main_only = "github.event_name != 'pull_request' && github.ref == 'refs/heads/main'"
    assert workflow["jobs"]["deploy"]["if"] == main_only
    upload = next(s for s in steps(workflow["jobs"]["build"]) if s.get("uses", "").startswith("actions/upload-pages"))
    assert upload["if"] == main_only


def test_workflow_needs_no_secret_beyond_the_platform_token(workflow):
    # the build job (which runs a pull request's code) reads; only the deploy job may write Pages and get a token
    assert workflow["permissions"] == {"contents": "read"}
    assert "permissions" not in workflow["jobs"]["build"]
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    text = WORKFLOW.read_text(encoding="utf-8")
    assert re.findall(r"secrets\.(\w+)", text) == []


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


def test_serve_follows_the_site_link_to_each_new_site(tmp_path):
    """`make serve` keeps serving while a site is published: each request gets the old site or the new one."""
    from kamsurvey.build import website

    book = tmp_path / "book"
    (book / "_toc.yml").parent.mkdir(parents=True)
    (book / "_toc.yml").write_text("root: index\n")
    versions = []
    for wave in ("2022", "2023"):
        version = website.new_version(book, "site")
        (version / "index.html").write_text(f'<meta name="kam-edition" content="{wave}">')
        versions.append(version)
    website.switch(book, {website.SITE: versions[0]}, "test")
    process = subprocess.Popen([sys.executable, "-m", "kamsurvey", "serve", "--port", "0", "--dir",
                                str(book / website.SITE)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = re.search(r"http://127\.0\.0\.1:(\d+)/", process.stdout.readline()).group(0)

        def edition() -> str:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with urllib.request.urlopen(base + "index.html", timeout=5) as response:
                        return re.search(r'content="(\d+)"', response.read().decode()).group(1)
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)

        assert edition() == "2022"
        website.switch(book, {website.SITE: versions[1]}, "test")
        assert edition() == "2023" and not versions[0].exists()
    finally:
        process.terminate()
        process.wait(timeout=10)
