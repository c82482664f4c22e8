"""Check the built sdists and wheels of every lollms distribution before anyone installs them.

usage: python tools/check_dists.py DIST_DIR [SOURCE_DIR ...]

Each SOURCE_DIR is a distribution folder (``core``, ``plugins/lollms-openai``, ...; default:
all of them). For each one, ``DIST_DIR`` must hold exactly one wheel and one sdist of the
version written in its ``__version__``, and the wheel must carry what an editable checkout
hides when it is missing: every ``description.yaml`` of the source tree, ``py.typed``, the
``lollms.bindings`` entry point (plugins) or the ``lollms`` script (core), the LICENSE,
and a README as the long description. The sdist must carry LICENSE, README.md,
CHANGELOG.md and pyproject.toml. Every problem is printed, naming the file that lacks
what; the exit status is 1 if there was any.
"""

from __future__ import annotations

import re
import sys
import tarfile
import zipfile
from configparser import ConfigParser
from email.parser import HeaderParser
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    ROOT / "core",
    *sorted(p.parent for p in (ROOT / "plugins").glob("*/pyproject.toml")),
    ROOT / "server",  # lollms-server: adds `lollms serve`; its page's files are package data
]
VERSION_LINE = re.compile(r'^__version__\s*=\s*["\']([^"\']+)["\']', re.MULTILINE)


def project_facts(source: Path) -> dict[str, object]:
    """Name, import package, version and declared entry points of one distribution folder."""
    pyproject = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    version_file = source / pyproject["tool"]["hatch"]["version"]["path"]
    found = VERSION_LINE.search(version_file.read_text(encoding="utf-8"))
    if not found:
        raise SystemExit(f"{version_file}: no __version__ = '...' line (hatch reads the version there)")
    package_dir = source / pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"][0]
    manifests = sorted(str(p.relative_to(package_dir.parent)) for p in package_dir.rglob("description.yaml"))
    # Every other non-Python file of the package (the server page's JS and CSS): package data a
    # build configuration can drop without any test of an editable checkout noticing.
    data_files = sorted(
        str(p.relative_to(package_dir.parent))
        for p in package_dir.rglob("*")
        if p.is_file()
        and p.suffix not in (".py", ".pyc")
        and p.name != "description.yaml"
        and "__pycache__" not in p.parts
        and p.name != "py.typed"
    )
    return {
        "name": project["name"],
        "version": found.group(1),
        "package": package_dir.name,
        "manifests": manifests,
        "data_files": data_files,
        "entry_points": project.get("entry-points", {}).get("lollms.bindings", {}),
        "scripts": project.get("scripts", {}),
    }


def normalized(name: str) -> str:
    """A distribution name as it appears in file names (PEP 427/625)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def check_wheel(path: Path, facts: dict[str, object]) -> list[str]:
    """Everything the wheel at ``path`` lacks, one line each."""
    problems: list[str] = []
    with zipfile.ZipFile(path) as wheel:
        names = set(wheel.namelist())
        dist_info = f"{normalized(str(facts['name']))}-{facts['version']}.dist-info"
        package = str(facts["package"])
        for manifest in facts["manifests"]:  # type: ignore[attr-defined]
            if manifest not in names:
                problems.append(f"{path.name}: missing manifest {manifest}")
        for data_file in facts["data_files"]:  # type: ignore[attr-defined]
            if data_file not in names:
                problems.append(f"{path.name}: missing package file {data_file}")
        if f"{package}/py.typed" not in names:
            problems.append(f"{path.name}: missing {package}/py.typed (PEP 561 marker)")
        if f"{dist_info}/licenses/LICENSE" not in names:
            problems.append(f"{path.name}: missing {dist_info}/licenses/LICENSE")
        metadata = HeaderParser().parsestr(wheel.read(f"{dist_info}/METADATA").decode("utf-8"))
        if metadata["Version"] != facts["version"]:
            problems.append(f"{path.name}: METADATA Version {metadata['Version']} != __version__ {facts['version']}")
        if metadata["License-Expression"] != "Apache-2.0":
            problems.append(f"{path.name}: METADATA License-Expression is {metadata['License-Expression']!r}")
        if metadata["Description-Content-Type"] != "text/markdown" or not str(metadata.get_payload()).strip():
            problems.append(f"{path.name}: no Markdown README as the long description")
        if not any(c == "Typing :: Typed" for c in metadata.get_all("Classifier") or []):
            problems.append(f"{path.name}: classifier 'Typing :: Typed' missing")
        problems.extend(check_entry_points(path, wheel, names, dist_info, facts))
    return problems


def check_entry_points(
    path: Path, wheel: zipfile.ZipFile, names: set[str], dist_info: str, facts: dict[str, object]
) -> list[str]:
    """The wheel's entry_points.txt declares the plugin's bindings group and the core's script."""
    wanted: dict[str, dict[str, str]] = {}
    if facts["entry_points"]:
        wanted["lollms.bindings"] = facts["entry_points"]  # type: ignore[assignment]
    if facts["scripts"]:
        wanted["console_scripts"] = facts["scripts"]  # type: ignore[assignment]
    if not wanted:
        return []
    if f"{dist_info}/entry_points.txt" not in names:
        return [f"{path.name}: missing {dist_info}/entry_points.txt (wanted {sorted(wanted)})"]
    parser = ConfigParser(delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # entry-point names are case-sensitive
    parser.read_string(wheel.read(f"{dist_info}/entry_points.txt").decode("utf-8"))
    problems = []
    for group, entries in wanted.items():
        for name, value in entries.items():
            got = parser.get(group, name, fallback=None)
            if got is None or got.strip() != value:
                problems.append(f"{path.name}: entry point [{group}] {name} = {value} missing (found {got!r})")
    return problems


def check_sdist(path: Path, facts: dict[str, object]) -> list[str]:
    """Everything the sdist at ``path`` lacks, one line each."""
    top = f"{normalized(str(facts['name']))}-{facts['version']}"
    with tarfile.open(path) as sdist:
        names = set(sdist.getnames())
    wanted = ["LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "PKG-INFO"]
    wanted += [f"src/{m}" for m in facts["manifests"]]  # type: ignore[attr-defined]
    return [f"{path.name}: missing {top}/{w}" for w in wanted if f"{top}/{w}" not in names]


def check(dist_dir: Path, sources: list[Path]) -> list[str]:
    """All problems of the artefacts in ``dist_dir`` for the distributions in ``sources``."""
    problems: list[str] = []
    for source in sources:
        facts = project_facts(source)
        stem = f"{normalized(str(facts['name']))}-{facts['version']}"
        wheels = sorted(dist_dir.glob(f"{stem}-*.whl"))
        sdists = sorted(dist_dir.glob(f"{stem}.tar.gz"))
        if len(wheels) != 1:
            problems.append(f"{facts['name']}: expected one wheel {stem}-*.whl in {dist_dir}, found {len(wheels)}")
        if len(sdists) != 1:
            problems.append(f"{facts['name']}: expected one sdist {stem}.tar.gz in {dist_dir}, found {len(sdists)}")
        for wheel in wheels:
            problems.extend(check_wheel(wheel, facts))
        for sdist in sdists:
            problems.extend(check_sdist(sdist, facts))
        if not (source / "LICENSE").is_file() or (source / "LICENSE").read_bytes() != (ROOT / "LICENSE").read_bytes():
            problems.append(f"{source.relative_to(ROOT)}/LICENSE differs from the repository's LICENSE")
    return problems


def main(argv: list[str]) -> int:
    """Run the checks; print every problem; 1 if any."""
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    dist_dir = Path(argv[0])
    sources = [Path(a).resolve() for a in argv[1:]] or SOURCES
    problems = check(dist_dir, sources)
    for problem in problems:
        print(f"MISSING: {problem}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in {dist_dir}", file=sys.stderr)
        return 1
    print(f"{len(sources)} distributions checked in {dist_dir}: manifests, py.typed, entry points, LICENSE all present")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
