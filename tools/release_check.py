"""Is a distribution ready to be released? Its version against its last tag, and its changelog.

usage: python tools/release_check.py DIST

``DIST`` is a distribution name (``lollms-core``, ``lollms-openai``, ...). Tags are
``DIST-vX.Y.Z``, one series per distribution. The version written in the package's
``__version__`` must be greater than the highest such tag, or be exactly the tag on
the commit being released (the publish workflow runs on that tag), and ``CHANGELOG.md``
must have a ``## [X.Y.Z]`` entry. Prints the distribution folder on success.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from check_dists import SOURCES, project_facts

ROOT = Path(__file__).resolve().parents[1]


def version_key(version: str) -> tuple[int, ...]:
    """``"1.2.10"`` -> ``(1, 2, 10)``; releases here are plain X.Y.Z."""
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        raise SystemExit(f"version {version!r} is not X.Y.Z: release versions are plain numbers")
    return tuple(int(part) for part in version.split("."))


def git(*args: str) -> str:
    """Output of a git command run at the repository root."""
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def problems_for(dist: str) -> tuple[Path, list[str]]:
    """The distribution's folder and what stops its release (empty: ready)."""
    by_name = {str(project_facts(s)["name"]): s for s in SOURCES}
    if dist not in by_name:
        raise SystemExit(f"unknown distribution {dist!r}; choose from {sorted(by_name)}")
    source = by_name[dist]
    version = str(project_facts(source)["version"])
    problems = []
    prefix = f"{dist}-v"
    tags = [t for t in git("tag", "--list", f"{prefix}*").split() if re.fullmatch(r"\d+(\.\d+)*", t[len(prefix) :])]
    here = set(git("tag", "--points-at", "HEAD").split())
    if tags:
        last = max(tags, key=lambda t: version_key(t[len(prefix) :]))
        last_version = last[len(prefix) :]
        if version_key(version) <= version_key(last_version) and f"{prefix}{version}" not in here:
            problems.append(
                f"{dist} {version} is not newer than its last release tag {last}: bump __version__ in "
                f"{source.relative_to(ROOT)}/src/{project_facts(source)['package']}/__init__.py"
            )
    changelog = source / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8") if changelog.is_file() else ""
    if not re.search(rf"^## \[{re.escape(version)}\]", text, re.MULTILINE):
        problems.append(f"{changelog.relative_to(ROOT)} has no '## [{version}] - YYYY-MM-DD' entry")
    return source, problems


def main(argv: list[str]) -> int:
    """Print the folder to build, or every reason not to release; 1 if there is one."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    source, problems = problems_for(argv[0])
    for problem in problems:
        print(f"NOT READY: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(source.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
