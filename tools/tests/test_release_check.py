"""tools/release_check.py: a release needs a version past the distribution's last tag and a changelog entry."""

from __future__ import annotations

import pytest
import release_check
from check_dists import ROOT, project_facts

OPENAI_VERSION = str(project_facts(ROOT / "plugins" / "lollms-openai")["version"])


def fake_git(tags: list[str], at_head: list[str]):
    def git(*args: str) -> str:
        if args[:2] == ("tag", "--list"):
            return "\n".join(tags)
        if args[:2] == ("tag", "--points-at"):
            return "\n".join(at_head)
        raise AssertionError(args)

    return git


def bump(version: str, by: int) -> str:
    major, minor, patch = map(int, version.split("."))
    return f"{major}.{minor}.{patch + by}"


def test_first_release_and_a_bumped_version_are_ready(monkeypatch):
    monkeypatch.setattr(release_check, "git", fake_git([], []))
    assert release_check.problems_for("lollms-openai")[1] == []
    monkeypatch.setattr(release_check, "git", fake_git([f"lollms-openai-v{bump(OPENAI_VERSION, -1)}"], []))
    assert release_check.problems_for("lollms-openai")[1] == []


def test_a_version_not_past_the_last_tag_is_refused(monkeypatch):
    # Another distribution's higher tag does not count; the highest of this one's does.
    tags = ["lollms-openai-v0.0.9", f"lollms-openai-v{bump(OPENAI_VERSION, 10)}", "lollms-core-v9.0.0"]
    monkeypatch.setattr(release_check, "git", fake_git(tags, []))
    (problem,) = release_check.problems_for("lollms-openai")[1]
    assert f"lollms-openai {OPENAI_VERSION} is not newer than its last release tag" in problem
    assert "bump __version__ in plugins/lollms-openai/src/lollms_openai/__init__.py" in problem


def test_the_tag_being_released_is_accepted(monkeypatch):
    tag = f"lollms-openai-v{OPENAI_VERSION}"
    monkeypatch.setattr(release_check, "git", fake_git([tag], [tag]))
    assert release_check.problems_for("lollms-openai")[1] == []


def test_a_missing_changelog_entry_is_refused(monkeypatch, tmp_path):
    source = tmp_path / "lollms-openai"
    (source / "src" / "lollms_openai").mkdir(parents=True)
    (source / "src" / "lollms_openai" / "__init__.py").write_text('__version__ = "7.0.0"\n')
    (source / "pyproject.toml").write_text((ROOT / "plugins" / "lollms-openai" / "pyproject.toml").read_text())
    (source / "CHANGELOG.md").write_text("# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-11-30\n")
    monkeypatch.setattr(release_check, "SOURCES", [source])
    monkeypatch.setattr(release_check, "ROOT", tmp_path)
    monkeypatch.setattr(release_check, "git", fake_git([], []))
    (problem,) = release_check.problems_for("lollms-openai")[1]
    assert problem == "lollms-openai/CHANGELOG.md has no '## [7.0.0] - YYYY-MM-DD' entry"


def test_an_unknown_distribution_names_the_known_ones():
    with pytest.raises(SystemExit, match=r"unknown distribution 'lollms-foo'.*'lollms-openai'"):
        release_check.problems_for("lollms-foo")
