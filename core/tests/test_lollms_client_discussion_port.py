"""lollms_client's own ``test/test_lollms_discussion.py``, ported to lollms-core against real llama.cpp.

Source: github.com/ParisNeo/lollms_client, ``test/test_lollms_discussion.py`` (1.21 line).
The port changes the import (``from lollms_client import`` → ``from lollms_core import``)
and points the client at a local engine instead of a ``MagicMock``, as a migrating user
would. Where a test asserted a mock's canned reply (``"A Mocked Title"``, word-count token
totals) it now asserts what a real model guarantees. Where it used a private name
(``_is_db_backed``, ``_message_index``) it asserts the same fact through public ones. Each such
change is marked ``PORT:``. Data zones, discussion images, image activation and ``memorize``
are offered now: those tests run as lollms_client wrote them.

Runs when ``LOLLMS_TEST_LLAMACPP_MODEL`` points at a .gguf (the noxfile sets it to SmolLM2).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import registry_of
from lollms_core import LollmsClient, LollmsDataManager, LollmsDiscussion

_MODEL = os.environ.get("LOLLMS_TEST_LLAMACPP_MODEL", "")
# PORT: the core suite's default registry holds no plugins; this port names the one it runs on.
_REGISTRY = registry_of("lollms-llamacpp")
pytestmark = pytest.mark.skipif(
    not _MODEL,
    reason="set LOLLMS_TEST_LLAMACPP_MODEL=/path/to/model.gguf (and install lollms-llamacpp) to run this port",
)


def test_the_port_runs_when_a_model_is_given():
    """A model was named (CI names SmolLM2): the port must run on it, never turn into skips."""
    assert Path(_MODEL).is_file(), f"LOLLMS_TEST_LLAMACPP_MODEL={_MODEL!r} is not a file"
    assert "llamacpp" in _REGISTRY.available("llm"), f"lollms-llamacpp is not usable here: {_REGISTRY.entries}"


# --- Test Fixtures and Helpers ---


@pytest.fixture(scope="module")
def real_client():
    """PORT: a real LollmsClient on llama.cpp (SmolLM2) instead of lollms_client's MagicMock."""
    client = LollmsClient(
        llm_binding_name="llamacpp",
        llm_binding_config={"model_path": _MODEL, "ctx_size": 2048, "n_threads": 1},
        n_predict=24,
        temperature=0.0,
        seed=1,
        registry=_REGISTRY,
    )
    yield client
    client.close()


@pytest.fixture
def mock_lollms_client(real_client):
    # PORT: the name of the original fixture, kept so the test bodies read as before.
    return real_client


@pytest.fixture
def db_manager(tmp_path):
    """Creates a LollmsDataManager with a temporary database."""
    db_file = tmp_path / "test_discussions.db"
    manager = LollmsDataManager(f"sqlite:///{db_file}")
    yield manager
    manager.close()


def create_dummy_image_b64(text="Test"):
    """A 1x1 transparent PNG (the original's fallback when Pillow is missing)."""
    return "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="


@pytest.fixture
def dummy_image_b64_1():
    return create_dummy_image_b64("Image 1")


@pytest.fixture
def dummy_image_b64_2():
    return create_dummy_image_b64("Image 2")


# --- Test Class ---


class TestLollmsDiscussion:
    def setup_method(self, method):
        """Ensures a clean in-memory database state before each test."""
        self._test_db_manager = LollmsDataManager("sqlite:///:memory:")

    def teardown_method(self, method):
        self._test_db_manager.close()

    def test_creation_in_memory(self, mock_lollms_client):
        """Tests that an in-memory discussion can be created."""
        disc = LollmsDiscussion.create_new(lollms_client=mock_lollms_client)
        assert disc.id is not None
        # PORT: `not disc._is_db_backed` is private; an in-memory discussion says so in its repr.
        assert "in memory" in repr(disc)
        assert disc.id != "viewer_session"

    def test_creation_db_backed(self, mock_lollms_client, db_manager):
        """Tests that a database-backed discussion can be created."""
        metadata = {"title": "DB Test"}
        disc = LollmsDiscussion.create_new(
            lollms_client=mock_lollms_client, db_manager=db_manager, discussion_metadata=metadata
        )
        # PORT: `disc._is_db_backed` is private; the discussion is in the manager's database.
        assert db_manager.discussion_exists(disc.id)
        assert disc.metadata["title"] == "DB Test"

    def test_add_and_get_message(self, mock_lollms_client):
        """Tests basic message addition and retrieval."""
        disc = LollmsDiscussion.create_new(lollms_client=mock_lollms_client)
        disc.add_message(sender="user", content="Hello, world!")

        assert disc.active_branch_id is not None
        messages = disc.get_messages()
        assert len(messages) == 1
        assert messages[0].sender == "user"
        assert messages[0].content == "Hello, world!"

    def test_data_zones_and_export(self, mock_lollms_client):
        """Tests that data zones are correctly included in exports."""
        disc = LollmsDiscussion.create_new(lollms_client=mock_lollms_client)
        disc.system_prompt = "You are a tester."
        disc.memory = "Remember this."
        disc.user_data_zone = "User is a dev."
        disc.add_message(sender="user", content="Test prompt.")

        exported_md = disc.export("markdown")
        assert "You are a tester." in exported_md
        assert "-- Memory --" in exported_md
        assert "Remember this." in exported_md
        assert "-- User Data Zone --" in exported_md
        assert "User is a dev." in exported_md
        assert "**user**:\n\nTest prompt." in exported_md  # PORT: our Markdown puts the text below the sender

    def test_message_image_activation(self, mock_lollms_client, dummy_image_b64_1, dummy_image_b64_2):
        """Tests activating and deactivating images on a specific message."""
        disc = LollmsDiscussion.create_new(lollms_client=mock_lollms_client)
        msg = disc.add_message(sender="user", content="Look", images=[dummy_image_b64_1, dummy_image_b64_2])

        # Initially, both images should be active
        assert len(msg.get_active_images()) == 2

        # Deactivate the first image
        msg.toggle_image_activation(0, active=False)
        assert len(msg.get_active_images()) == 1
        all_imgs = msg.get_all_images()
        assert not all_imgs[0]["active"]
        assert all_imgs[1]["active"]

        # Toggle the first image back on
        msg.toggle_image_activation(0)
        assert len(msg.get_active_images()) == 2
        assert msg.get_all_images()[0]["active"]

    def test_discussion_image_management(self, mock_lollms_client, dummy_image_b64_1, dummy_image_b64_2):
        """Tests adding, toggling, and retrieving discussion-level images."""
        disc = LollmsDiscussion.create_new(lollms_client=mock_lollms_client)

        # Add two images
        disc.add_discussion_image(dummy_image_b64_1)
        disc.add_discussion_image(dummy_image_b64_2)

        # Check initial state
        assert len(disc.get_discussion_images()) == 2
        assert disc.get_discussion_images()[0]["active"]
        assert disc.get_discussion_images()[1]["active"]

        # Deactivate the second image
        disc.toggle_discussion_image_activation(1, active=False)

        # Verify changes
        all_disc_imgs = disc.get_discussion_images()
        assert len(all_disc_imgs) == 2
        assert all_disc_imgs[0]["active"]
        assert not all_disc_imgs[1]["active"]

    def test_export_with_multimodal_system_prompt(self, mock_lollms_client, dummy_image_b64_1):
        """Tests that active discussion images are included in the system prompt for export."""
        disc = LollmsDiscussion.create_new(lollms_client=mock_lollms_client)
        disc.system_prompt = "Analyze this image."
        disc.add_discussion_image(dummy_image_b64_1)  # This one is active
        disc.add_discussion_image(create_dummy_image_b64("Inactive"))
        disc.toggle_discussion_image_activation(1, active=False)  # This one is inactive

        disc.add_message(sender="user", content="What do you see?")

        openai_export = disc.export("openai_chat")

        system_message = openai_export[0]
        assert system_message["role"] == "system"

        content_parts = system_message["content"]
        assert len(content_parts) == 2

        text_part = next(p for p in content_parts if p["type"] == "text")
        image_part = next(p for p in content_parts if p["type"] == "image_url")

        assert text_part["text"] == "Analyze this image."
        assert image_part["image_url"]["url"].endswith(dummy_image_b64_1)

    def test_auto_title_updates_metadata(self, mock_lollms_client, db_manager):
        """Tests that auto_title calls the LLM and updates metadata."""
        disc = LollmsDiscussion.create_new(lollms_client=mock_lollms_client, db_manager=db_manager)
        disc.add_message(sender="user", content="This is a test to generate a title.")

        title = disc.auto_title()

        # PORT: a real model writes its own title (the mock returned "A Mocked Title").
        assert isinstance(title, str) and 0 < len(title) <= 120
        assert disc.metadata["title"] == title
        assert db_manager.get_discussion(mock_lollms_client, disc.id).metadata["title"] == title

    def test_delete_branch(self, mock_lollms_client, db_manager):
        """Tests deleting a message and its descendants."""
        disc = LollmsDiscussion.create_new(lollms_client=mock_lollms_client, db_manager=db_manager)

        msg_a = disc.add_message(sender="user", content="A")
        msg_b = disc.add_message(sender="user", content="B", parent_id=msg_a.id)
        msg_c = disc.add_message(sender="user", content="C", parent_id=msg_b.id)

        assert disc.active_branch_id == msg_c.id
        assert len(disc.get_messages()) == 3

        disc.delete_branch(msg_b.id)

        assert disc.active_branch_id == msg_a.id

        remaining_messages = disc.get_messages()
        assert len(remaining_messages) == 1
        assert remaining_messages[0].id == msg_a.id

    def test_branching_and_switching(self, mock_lollms_client):
        """Tests creating and switching between conversational branches."""
        disc = LollmsDiscussion.create_new(lollms_client=mock_lollms_client)

        root_msg = disc.add_message(sender="user", content="Hello")
        ai_msg_1 = disc.add_message(sender="assistant", content="Hi there!")

        disc.switch_to_branch(root_msg.id)
        ai_msg_2 = disc.add_message(sender="assistant", content="Greetings!")

        assert len(disc) == 3  # PORT: len(disc._message_index) is private
        assert disc.active_branch_id == ai_msg_2.id

        branch_1 = disc.get_branch(ai_msg_1.id)
        assert [m.id for m in branch_1] == [root_msg.id, ai_msg_1.id]

        branch_2 = disc.get_branch(ai_msg_2.id)
        assert [m.id for m in branch_2] == [root_msg.id, ai_msg_2.id]

    def test_regenerate_branch(self, mock_lollms_client, db_manager):
        """Tests that regeneration deletes the old AI message and creates a new one."""
        disc = LollmsDiscussion.create_new(lollms_client=mock_lollms_client, db_manager=db_manager)

        user_msg = disc.add_message(sender="user", content="Tell me a joke.")
        ai_msg = disc.add_message(sender="assistant", content="Why did the scarecrow win an award?")

        original_ai_id = ai_msg.id

        # PORT: no mock_chat patch: the real model answers.
        result = disc.regenerate_branch()
        new_ai_msg = result["ai_message"]

        assert new_ai_msg.id != original_ai_id
        assert new_ai_msg.content.strip()  # PORT: the mock's fixed text; a real model writes something
        assert result["user_message"].id == user_msg.id

        messages = disc.get_messages(new_ai_msg.id)
        assert len(messages) == 2
        assert original_ai_id not in [m.id for m in messages]

        # PORT: `_messages_to_delete_from_db` is private; the old answer is gone from the database.
        reloaded = db_manager.get_discussion(mock_lollms_client, disc.id)
        assert original_ai_id not in [m.id for m in reloaded.messages]

    def test_summarize_and_prune(self, mock_lollms_client):
        """Tests that the discussion is pruned when the token limit is exceeded."""
        disc = LollmsDiscussion.create_new(lollms_client=mock_lollms_client)
        disc.max_context_size = 20

        disc.add_message(sender="user", content="This is the first long message to establish history.")
        disc.add_message(sender="assistant", content="I see. This is the second long message.")
        m3 = disc.add_message(sender="user", content="Third message.")
        disc.add_message(sender="assistant", content="Fourth message.")
        disc.add_message(sender="user", content="Fifth message.")
        disc.add_message(sender="assistant", content="Sixth message.")

        disc.summarize_and_prune(max_tokens=20, preserve_last_n=4)

        assert disc.pruning_summary  # PORT: the mock's "This is a mock summary."; a real summary here
        assert disc.pruning_point_id == m3.id

    def test_memorize_updates_memory_zone(self, mock_lollms_client):
        """Tests that memorize calls the LLM and appends to the memory data zone."""
        disc = LollmsDiscussion.create_new(lollms_client=mock_lollms_client)
        disc.add_message(sender="user", content="My favorite color is blue.")

        remembered = disc.memorize()

        # PORT: a real model writes the entry (the mock's "This is a mock summary.").
        assert remembered and remembered in disc.memory
        assert "Memory entry from" in disc.memory

    def test_get_context_status(self, mock_lollms_client, dummy_image_b64_1, dummy_image_b64_2):
        """Tests the token calculation in get_context_status."""
        disc = LollmsDiscussion.create_new(lollms_client=mock_lollms_client)
        disc.system_prompt = "You are a helpful AI."
        disc.add_discussion_image(dummy_image_b64_1)  # 1 active discussion image

        msg = disc.add_message(sender="user", content="Hello there!", images=[dummy_image_b64_1, dummy_image_b64_2])
        msg.toggle_image_activation(1, active=False)  # 1 active message image

        status = disc.get_context_status()

        # PORT: real token counts (the mock counted words, 75 per image): content + per-message overhead.
        overhead = LollmsDiscussion.message_overhead_tokens
        image_tokens = mock_lollms_client.count_image_tokens(dummy_image_b64_1)
        system_tokens = status["zones"]["system_context"]["tokens"]
        assert system_tokens == mock_lollms_client.count_tokens("You are a helpful AI.") + overhead

        # Discussion Images: 1 active discussion image
        discussion_image_zone = status["zones"]["discussion_images"]
        assert discussion_image_zone["tokens"] == image_tokens

        # History: text tokens and the one active message image
        history_zone = status["zones"]["message_history"]
        assert history_zone["breakdown"]["text_tokens"] == mock_lollms_client.count_tokens("Hello there!") + overhead
        assert history_zone["breakdown"]["image_tokens"] == image_tokens
        assert history_zone["tokens"] == history_zone["breakdown"]["text_tokens"] + image_tokens

        # Total should be sum of system, discussion images, and history
        assert status["current_tokens"] == system_tokens + image_tokens + history_zone["tokens"]
        assert status["max_tokens"] == 2048

    # --- NEW PERSISTENCE AND SEPARATION TESTS ---

    def test_image_separation_and_context(self, mock_lollms_client, dummy_image_b64_1, dummy_image_b64_2):
        """Tests that discussion and message images are distinct but aggregated correctly."""
        disc = LollmsDiscussion.create_new(lollms_client=mock_lollms_client)

        # Add one image to the discussion, one to the message
        disc.add_discussion_image(dummy_image_b64_1)
        msg = disc.add_message(sender="user", content="Check these out", images=[dummy_image_b64_2])

        # Test separation
        assert len(disc.get_discussion_images()) == 1
        assert disc.get_discussion_images()[0]["data"] == dummy_image_b64_1
        assert len(msg.get_all_images()) == 1
        assert msg.get_all_images()[0]["data"] == dummy_image_b64_2

        # Test aggregation for context
        all_active_images = disc.get_active_images()
        assert len(all_active_images) == 2
        assert dummy_image_b64_1 in all_active_images
        assert dummy_image_b64_2 in all_active_images

    def test_full_multimodal_persistence(self, mock_lollms_client, db_manager, dummy_image_b64_1, dummy_image_b64_2):
        """End-to-end test for persisting both discussion and message images and their states."""
        disc_id = None

        # --- Scope 1: Create and Save ---
        with db_manager.get_session():
            disc = LollmsDiscussion.create_new(lollms_client=mock_lollms_client, db_manager=db_manager)
            disc_id = disc.id

            # Add and deactivate a discussion image
            disc.add_discussion_image(dummy_image_b64_1)
            disc.toggle_discussion_image_activation(0, active=False)

            # Add and deactivate a message image
            msg = disc.add_message(sender="user", content="Multimodal test", images=[dummy_image_b64_2])
            msg.toggle_image_activation(0, active=False)

            disc.commit()
            disc.close()

        # --- Scope 2: Reload and Verify ---
        reloaded_disc = db_manager.get_discussion(mock_lollms_client, disc_id)
        assert reloaded_disc is not None

        # Verify discussion image state
        reloaded_disc_imgs = reloaded_disc.get_discussion_images()
        assert len(reloaded_disc_imgs) == 1
        assert reloaded_disc_imgs[0]["data"] == dummy_image_b64_1
        assert not reloaded_disc_imgs[0]["active"]  # Must be inactive

        # Verify message image state
        reloaded_msg = reloaded_disc.get_messages()[0]
        reloaded_msg_imgs = reloaded_msg.get_all_images()
        assert len(reloaded_msg_imgs) == 1
        assert reloaded_msg_imgs[0]["data"] == dummy_image_b64_2
        assert not reloaded_msg_imgs[0]["active"]  # Must be inactive

        # Verify that get_active_images returns nothing
        assert len(reloaded_disc.get_active_images()) == 0

    def test_chat_against_the_real_model(self, mock_lollms_client):
        """Not in the original (its chat was mocked): the dict-style result of a real chat()."""
        disc = LollmsDiscussion.create_new(lollms_client=mock_lollms_client, system_prompt="Answer briefly.")
        result = disc.chat("What is the capital of France?")
        assert result["ai_message"] is disc.get_messages()[-1]
        assert result["user_message"].content == "What is the capital of France?"
        assert result["ai_message"].content.strip()
        assert result["ai_message"].sender_type == "assistant"
        assert result["ai_message"].model_name
