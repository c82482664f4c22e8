"""tools/check_dists.py fails loudly, naming the file and what it lacks, on artefacts built by `nox -s build`.

Run by ``nox -s build`` after the build, with ``LOLLMS_DIST_DIR`` pointing at the fresh dist/.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest
from check_dists import ROOT, check

DIST_DIR = Path(os.environ.get("LOLLMS_DIST_DIR", ROOT / "dist"))
OPENAI = ROOT / "plugins" / "lollms-openai"
CORE = ROOT / "core"

pytestmark = pytest.mark.skipif(
    not list(DIST_DIR.glob("lollms_openai-*.whl")), reason="no built wheels: run `nox -s build`"
)


def copy_dist(tmp_path: Path, drop: str = "", dist: str = "lollms_openai") -> Path:
    """The built wheel and sdist of ``dist`` in ``tmp_path``, the wheel without the members matching ``drop``."""
    out = tmp_path / "dist"
    out.mkdir()
    for sdist in DIST_DIR.glob(f"{dist}-*.tar.gz"):
        shutil.copy2(sdist, out)
    for wheel in DIST_DIR.glob(f"{dist}-*.whl"):
        with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(out / wheel.name, "w") as dst:
            for item in src.infolist():
                if not drop or not item.filename.endswith(drop):
                    dst.writestr(item, src.read(item))
    return out


def test_the_built_artefacts_pass():
    assert check(DIST_DIR, [CORE, OPENAI]) == []


@pytest.mark.parametrize(
    ("drop", "named"),
    [
        ("lollms_openai/py.typed", "missing lollms_openai/py.typed"),
        ("lollms_openai/tts/description.yaml", "missing manifest lollms_openai/tts/description.yaml"),
        ("licenses/LICENSE", "licenses/LICENSE"),
        ("entry_points.txt", "entry_points.txt"),
    ],
)
def test_a_wheel_missing_a_file_is_named(tmp_path, drop, named):
    problems = check(copy_dist(tmp_path, drop), [OPENAI])
    assert len(problems) == 1, problems
    assert problems[0].startswith("lollms_openai-") and ".whl" in problems[0]
    assert named in problems[0]


def test_the_server_wheel_needs_its_page_files(tmp_path):
    problems = check(copy_dist(tmp_path, "lollms_server/static/page.js", dist="lollms_server"), [ROOT / "server"])
    assert len(problems) == 1, problems
    assert (
        problems[0].startswith("lollms_server-") and "missing package file lollms_server/static/page.js" in problems[0]
    )


def test_the_core_wheel_needs_its_console_script(tmp_path):
    out = copy_dist(tmp_path, dist="lollms_core")
    wheel = next(out.glob("*.whl"))
    broken = tmp_path / "broken.whl"
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("entry_points.txt"):
                data = data.replace(b"lollms = ", b"lollms-renamed = ")
            dst.writestr(item, data)
    broken.replace(wheel)
    (problem,) = check(out, [CORE])
    assert "[console_scripts] lollms = lollms_core.cli:main missing" in problem


def test_a_missing_wheel_or_a_stale_version_is_named(tmp_path):
    out = copy_dist(tmp_path)
    for wheel in out.glob("*.whl"):
        wheel.rename(wheel.with_name(wheel.name.replace("-0.", "-9.")))
    (problem,) = check(out, [OPENAI])
    assert "expected one wheel lollms_openai-" in problem and "found 0" in problem


def test_an_sdist_without_its_changelog_is_named(tmp_path):
    out = copy_dist(tmp_path)
    sdist = next(out.glob("*.tar.gz"))
    unpacked = tmp_path / "unpacked"
    with tarfile.open(sdist) as tar:
        tar.extractall(unpacked, filter="data")
    (top,) = unpacked.iterdir()
    (top / "CHANGELOG.md").unlink()
    with tarfile.open(sdist, "w:gz") as tar:
        tar.add(top, arcname=top.name)
    (problem,) = check(out, [OPENAI])
    assert problem.endswith(f"missing {top.name}/CHANGELOG.md")
