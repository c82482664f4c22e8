"""Issue 20's client knot, cut: one class, every public method in one file, the strict rule written once.

The client used to be five mixins (text, lollms names, media, batch over a base), each
re-declaring the attributes it borrowed, with the strict / error-dict decision written out
seven times. These tests fail on that layout.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import lollms_core
from lollms_core import LollmsClient
from lollms_core.text_processing import LollmsTextProcessor

ROOT = Path(lollms_core.__file__).parent


def _defined_in(obj: object) -> str:
    target = obj.fget if isinstance(obj, property) else obj  # type: ignore[attr-defined]
    target = getattr(target, "__func__", target)  # staticmethod
    return inspect.getsourcefile(inspect.unwrap(target)) or ""  # type: ignore[arg-type]


def test_the_client_is_one_class():
    assert LollmsClient.__mro__ == (LollmsClient, object)


def test_every_public_method_of_the_client_is_in_the_file_of_its_class():
    home = inspect.getsourcefile(LollmsClient)
    members = vars(LollmsClient).items()
    public = {n: v for n, v in members if not n.startswith("_") and (callable(v) or isinstance(v, property))}
    assert len(public) > 60
    elsewhere = {n: _defined_in(v) for n, v in public.items() if _defined_in(v) != home}
    assert elsewhere == {}


def test_the_client_and_the_text_processor_share_the_helpers_implementation():
    """Both faces call the functions of lollms_core.text_processing; neither holds a prompt recipe."""
    names = ["generate_code", "generate_codes", "generate_structured_content", "yes_no", "multichoice_question",
             "multichoice_ranking", "long_context_processing", "generate_with_tag", "generate_with_tags"]  # fmt: skip
    for name in names:
        for face in (LollmsClient, LollmsTextProcessor):
            call = ast.parse(textwrap.dedent(inspect.getsource(inspect.unwrap(getattr(face, name)))))
            returns = [n for n in ast.walk(call) if isinstance(n, ast.Return)]
            assert len(returns) == 1, (face.__name__, name)  # one delegation, no recipe of its own


def _strict_decisions(path: Path) -> list[str]:
    """``if ... strict ...:`` tests and ``... if strict else ...`` expressions in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.If, ast.IfExp)):
            names = {n.attr for n in ast.walk(node.test) if isinstance(n, ast.Attribute)}
            names |= {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
            if "strict" in names:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_strict_rule_is_written_once():
    """Only lollms_core._seed_rule decides between raising and returning lollms_client's value."""
    files = [*(ROOT / "client").rglob("*.py"), *(ROOT / "text_processing").rglob("*.py"), ROOT / "_seed_rule.py"]
    files += [ROOT / "bindings" / "base.py", ROOT / "bindings" / "llm.py"]
    decisions = [d for f in files for d in _strict_decisions(f)]
    assert decisions == [d for d in decisions if d.startswith("_seed_rule.py")]
    assert len(decisions) == 1
