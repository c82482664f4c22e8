"""The settings page in a real browser: Playwright driving Debian's chromium (``apt-get install chromium``).

Set ``LOLLMS_SCREENSHOTS_DIR`` to keep the screenshots (docs/images holds the ones the docs show).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from lollms_core import get_registry
from lollms_core.types import Modality

from .conftest import Running, start

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags known to work in this sandbox: no sandbox (root), no GPU, no background network traffic.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip
SECRET = "page-secret-never-shown"


def bundled_models(tmp: Path) -> dict[str, Any]:
    """An alias for every binding this repository ships (each modality of each), with harmless configs."""
    models: dict[str, Any] = {
        "chat": {"binding": "echo", "config": {"service_key": SECRET, "delay": 0.15}},
        "pool-a": {"binding": "echo"},
    }
    for modality in ("tti", "tts", "stt", "ttv", "ttm"):
        models[f"echo-{modality}"] = {"binding": "echo", "modality": modality}
    for modality in ("llm", "tti", "tts", "stt"):
        models[f"openai-{modality}"] = {"binding": "openai", "modality": modality,
                                        "config": {"host_address": "http://127.0.0.1:9/v1"}}  # fmt: skip
    models["ollama"] = {"binding": "ollama", "config": {"host_address": "http://127.0.0.1:9"}}
    models["llamacpp"] = {"binding": "llamacpp", "config": {"model_path": str(tmp / "missing.gguf")}}
    models["whisper"] = {"binding": "whisper", "config": {"model_name": str(tmp / "no-model")}}
    return {"models": models, "routers": {"pool": {"members": ["chat", "pool-a"]}}}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright = pytest.importorskip("playwright.sync_api")
    assert Path(CHROMIUM).exists(), "chromium is missing: apt-get install -y chromium (.ci/run installs it)"
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def editable(tmp_path: Path) -> Iterator[tuple[Running, Path]]:
    path = tmp_path / "serve.yaml"
    path.write_text(yaml.safe_dump(bundled_models(tmp_path)))
    from lollms_server.config import load_config

    running, thread = start(load_config(path).with_changes(allow_config_edit=True))
    yield running, path
    running.server.should_exit = True
    thread.join(15)


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("LOLLMS_SCREENSHOTS_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=False)


def test_every_bundled_binding_renders_its_manifest_as_a_form(browser: Any, editable: tuple[Running, Path]) -> None:
    server, _ = editable
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(server.url + "/")
    registry = get_registry()
    for name, alias in server.state.config.aliases.items():
        manifest = registry.get(alias.modality, alias.binding).manifest
        form = page.locator(f'form.settings[data-model="{name}"]')
        for param in manifest.parameters:
            control = form.locator(f'[name="{param.name}"]')
            assert control.count() == 1, (name, param.name)
            tag = control.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
            if param.is_secret:
                assert tag == "input:password"
            elif param.options:
                assert tag.startswith("select")
            elif param.type == "bool":
                assert tag == "input:checkbox"
            if param.description:
                help_text = form.locator(f'.field[data-field="{param.name}"] .help').inner_text()
                assert param.description.split()[0] in help_text
    assert SECRET not in page.content()
    # Health: the missing model file shows as failing, echo as ready (filled in by the page's JS).
    page.wait_for_function("document.querySelector('[data-health=\"llamacpp\"]').textContent.startsWith('failing')")
    assert page.locator('[data-health="chat"]').first.inner_text().startswith("ready")
    shot(page, "server-page.png")


def test_bad_value_shows_the_manifest_message_next_to_the_field(browser: Any, editable: tuple[Running, Path]) -> None:
    server, path = editable
    before = path.read_text()
    page = browser.new_page()
    page.goto(server.url + "/")
    form = page.locator('form.settings[data-model="chat"]')
    form.locator('[name="delay"]').fill("9")
    form.locator("button[type=submit]").click()
    error = form.locator('[data-error-for="delay"]')
    error.wait_for(state="visible")
    assert "must be <= 5" in error.inner_text()
    assert path.read_text() == before  # nothing written
    shot(page, "server-page-error.png")


def test_a_saved_change_reaches_the_yaml_file_and_the_model(browser: Any, editable: tuple[Running, Path]) -> None:
    server, path = editable
    page = browser.new_page()
    page.goto(server.url + "/")
    form = page.locator('form.settings[data-model="chat"]')
    form.locator('[name="delay"]').fill("0.01")
    form.locator('[name="fail_with"]').select_option("")
    form.locator("button[type=submit]").click()
    form.locator(".saved").filter(has_text="Saved.").wait_for()
    saved = yaml.safe_load(path.read_text())
    assert saved["models"]["chat"]["config"]["delay"] == 0.01
    assert saved["models"]["chat"]["config"]["service_key"] == SECRET  # kept though never shown
    assert saved["routers"]["pool"]["members"] == ["chat", "pool-a"]
    deadline = time.monotonic() + 10
    while server.state.hosts["chat"].state != "ready" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.binding("chat").config["delay"] == 0.01  # applied: the model was restarted


def test_try_it_streams_the_answer(browser: Any, editable: tuple[Running, Path]) -> None:
    server, _ = editable
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    page.goto(server.url + "/")
    box = page.locator('.try[data-model="chat"]')
    box.locator(".prompt").fill("one two three four five six")
    page.evaluate(
        """() => { window.seen = []; const out = document.querySelector('.try[data-model="chat"] .answer');
        new MutationObserver(() => window.seen.push(out.textContent)).observe(out, {childList: true,
        characterData: true, subtree: true}); }"""
    )
    box.locator(".send").click()
    page.wait_for_function("document.querySelector('.try[data-model=\"chat\"] .answer').textContent.includes('six')")
    seen = page.evaluate("window.seen")
    assert seen[-1] == "one two three four five six"
    assert len({s for s in seen if s}) >= 4  # it grew chunk by chunk, not all at once
    box.scroll_into_view_if_needed()
    shot(page, "server-page-try-it.png")


def test_read_only_without_allow_config_edit(browser: Any, serve) -> None:  # type: ignore[no-untyped-def]
    server: Running = serve({"models": {"chat": {"binding": "echo"}}})
    page = browser.new_page()
    page.goto(server.url + "/")
    assert page.locator('form.settings[data-model="chat"] [name="delay"]').is_disabled()
    assert "Read-only" in page.locator(".lead").inner_text()
    refused = httpx.post(f"{server.url}/lollms/v1/config/models/chat", json={"config": {"delay": 1}})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "read_only"


def test_sign_in_with_a_key_then_the_page_and_its_calls_work(browser: Any, serve) -> None:  # type: ignore[no-untyped-def]
    server: Running = serve({"models": {"chat": {"binding": "echo"}}}, api_keys=("page-key-123456",))
    page = browser.new_page()
    page.goto(server.url + "/")
    assert page.locator("form.login").count() == 1 and page.locator("form.settings").count() == 0
    page.fill("#key", "wrong-key-000000")
    page.click("form.login button")
    assert "not accepted" in page.content()
    page.fill("#key", "page-key-123456")
    page.click("form.login button")
    box = page.locator('.try[data-model="chat"]')
    box.locator(".prompt").fill("signed in")
    box.locator(".send").click()
    page.wait_for_function("document.querySelector('.try .answer').textContent === 'signed in'")
    assert "page-key-123456" not in page.content()


def test_cross_site_form_posts_cannot_save(editable: tuple[Running, Path]) -> None:
    server, path = editable
    before = path.read_text()
    forged = httpx.post(f"{server.url}/lollms/v1/config/models/chat", data={"config": "x"})
    assert forged.status_code == 415 and path.read_text() == before


def test_the_page_lists_llm_try_boxes_only_for_text_models(editable: tuple[Running, Path]) -> None:
    server, _ = editable
    html = httpx.get(server.url + "/").text
    llm = [n for n, a in server.state.config.aliases.items() if a.modality is Modality.LLM]
    assert html.count('class="try"') == len(llm)
