"""The files of a batch job: the input checked before any work, the output appended crash-safely.

Output rules (what makes a batch resumable and each id appear exactly once):

* one result = one line, written with a single ``os.write`` on an ``O_APPEND`` descriptor, so a
  process killed at any instant leaves whole lines plus at most one torn last line;
* ``fsync`` every N lines and at the end, so a machine crash loses at most N results (they are redone);
* on start, a torn last line (no newline) is cut off and its item redone; ids already present
  are skipped. A complete line that is not a result means the file is not ours: stop, change nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = [
    "OutputLock",
    "ResultWriter",
    "check_output_path",
    "cut_torn_tail",
    "drop_error_rows",
    "id_key",
    "parse_items",
    "read_input",
    "read_output",
]

_MAX_LISTED = 10


def id_key(item_id: Any) -> str:
    """A hashable key that keeps ``1`` and ``"1"`` apart (as JSON does)."""
    return json.dumps(item_id)


def read_input(path: str | Path) -> list[Any]:
    """The items of a JSONL file (blank lines skipped).

    :raises ConfigError: the file cannot be read, or a line is not JSON (its number is given).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read batch input {path}: {getattr(exc, 'strerror', None) or exc}") from None
    items: list[Any] = []
    # "\n" only: str.splitlines() also splits at U+2028, U+2029 and U+0085, which JSON strings may
    # hold raw (json.dumps(ensure_ascii=False) writes them so). A CRLF file keeps working ("\r" is
    # JSON whitespace).
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except ValueError as exc:
            raise ConfigError(f"{path} line {number} is not JSON: {exc}") from None
    return items


def parse_items(items: Iterable[Any], where: str = "batch input") -> list[tuple[Any, dict[str, Any]]]:
    """Check every item before any work: ``(id, item)`` pairs, in order.

    An item is ``{"id": str|int, "prompt": str}`` or ``{"id", "messages": [...]}`` plus options;
    a plain string is a prompt whose id is its position (0-based).

    :raises ConfigError: listing every item without an id, with a bad id or prompt, and duplicated ids.
    """
    out: list[tuple[Any, dict[str, Any]]] = []
    problems: list[str] = []
    first_seen: dict[str, int] = {}
    for position, raw in enumerate(items):
        line = position + 1
        item = {"id": position, "prompt": raw} if isinstance(raw, str) else raw
        if not isinstance(item, dict):
            problems.append(f"item {line}: expected an object with 'id' and 'prompt' or 'messages'")
            continue
        if "id" not in item or item["id"] is None:
            problems.append(f"item {line}: missing 'id'")
            continue
        item_id = item["id"]
        if isinstance(item_id, bool) or not isinstance(item_id, (str, int)):
            problems.append(f"item {line}: 'id' must be a string or an integer, got {item_id!r}")
            continue
        has_prompt, has_messages = "prompt" in item, "messages" in item
        if has_prompt == has_messages:
            problems.append(f"item {line} (id {item_id!r}): give exactly one of 'prompt' or 'messages'")
        elif has_prompt and not isinstance(item["prompt"], str):
            problems.append(f"item {line} (id {item_id!r}): 'prompt' must be a string")
        elif has_messages and not (
            isinstance(item["messages"], list) and all(isinstance(m, dict) for m in item["messages"])
        ):
            problems.append(f"item {line} (id {item_id!r}): 'messages' must be a list of message objects")
        key = id_key(item_id)
        if key in first_seen:
            problems.append(f"id {item_id!r} appears twice (items {first_seen[key]} and {line})")
        else:
            first_seen[key] = line
        out.append((item_id, item))
    if problems:
        more = f" (and {len(problems) - _MAX_LISTED} more)" if len(problems) > _MAX_LISTED else ""
        raise ConfigError(f"{where}: {'; '.join(problems[:_MAX_LISTED])}{more}; nothing was run")
    return out


def read_output(path: str | Path) -> dict[str, dict[str, Any]]:
    """The results already in ``path`` by :func:`id_key` (a torn last line is ignored; see :func:`cut_torn_tail`).

    :raises ConfigError: a complete line is not a result object, or an id appears twice.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read batch output {path}: {exc.strerror or exc}") from None
    done: dict[str, dict[str, Any]] = {}
    end = data.rfind(b"\n") + 1  # everything after the last newline is a torn write
    for number, line in enumerate(data[:end].split(b"\n"), 1):  # "\n" only, as the writer ends lines
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            row = None
        if not isinstance(row, dict) or "id" not in row:
            raise ConfigError(
                f"{path} line {number} is not a batch result ({line[:60]!r}); "
                "is this the output of another program? Choose another -o file"
            )
        key = id_key(row["id"])
        if key in done:
            raise ConfigError(f"{path}: id {row['id']!r} appears twice; this file was not written by lollms batch")
        done[key] = row
    return done


def cut_torn_tail(path: str | Path) -> None:
    """Cut what follows the last newline of ``path`` (a write torn by a kill), so appending starts clean."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        return
    end = data.rfind(b"\n") + 1
    if end < len(data):
        with open(file, "r+b") as fh:
            fh.truncate(end)
            fh.flush()
            os.fsync(fh.fileno())


def drop_error_rows(path: str | Path) -> int:
    """Rewrite ``path`` without its error rows (atomically), so their items run again; return how many."""
    file = Path(path)
    rows = read_output(file)
    kept = [row for row in rows.values() if "error" not in row]
    dropped = len(rows) - len(kept)
    if dropped:
        tmp = file.with_name(file.name + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(b"".join(_encode(row) for row in kept))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, file)
    return dropped


def _encode(row: dict[str, Any]) -> bytes:
    return (json.dumps(row, ensure_ascii=False, default=str) + "\n").encode("utf-8")


class ResultWriter:
    """Appends one result per line: one ``write`` each (flushed to the OS), ``fsync`` every ``fsync_every``."""

    def __init__(self, path: str | Path, fsync_every: int = 16) -> None:
        self.path = Path(path)
        self.fsync_every = fsync_every
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._unsynced = 0

    def write(self, row: dict[str, Any]) -> None:
        """Append ``row`` as one JSON line."""
        if self._fd is None:
            raise ValueError("ResultWriter is closed")
        data = memoryview(_encode(row))
        while data:  # a regular file takes it in one write; loop anyway (signals, huge rows)
            data = data[os.write(self._fd, data) :]
        self._unsynced += 1
        if self._unsynced >= self.fsync_every:
            self.sync()

    def sync(self) -> None:
        """Force what was written to disk."""
        if self._fd is not None and self._unsynced:
            os.fsync(self._fd)
            self._unsynced = 0

    def close(self) -> None:
        """Sync and close (safe to call twice)."""
        if self._fd is not None:
            self.sync()
            os.close(self._fd)
            self._fd = None


def check_output_path(output: str | Path, input_path: str | Path | None = None) -> None:
    """Refuse an output a resumable batch cannot use, before anything is read or written.

    The output is read back on every run (to resume), so it must be a regular file: a pipe or
    ``/dev/stdout`` would block forever reading itself. It must not be the input either (also
    through a link): the input's lines would be taken for results.

    :raises ConfigError: naming the file and what to use instead.
    """
    try:
        info = os.stat(output)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConfigError(f"cannot use batch output {output}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(
            f"batch output {output} is not a regular file (a pipe, a terminal or a device): the output is "
            "read back to resume a run; write to a file, then print it"
        )
    if input_path is not None:
        try:
            same = os.path.samefile(output, input_path)
        except OSError:
            same = False
        if same:
            raise ConfigError(f"batch output {output} is the input file {input_path}; choose another -o file")


class OutputLock:
    """An exclusive lock on a batch output for a whole run: a second run on the same file refuses.

    The lock is held on ``OUT.lock`` beside the output (the output itself is replaced by
    ``--retry-errors``, so its inode cannot carry the lock), which holds the owner's PID.
    Where ``fcntl`` does not exist (Windows) there is no lock.
    """

    def __init__(self, output: str | Path) -> None:
        self.path = Path(f"{output}.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`ConfigError` naming the running owner's PID."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                owner = os.read(fd, 32).decode("ascii", "replace").strip()
                os.close(fd)
                who = f" (PID {owner})" if owner.isdigit() else ""
                raise ConfigError(
                    f"batch output {str(self.path)[:-5]} is in use by another lollms batch{who}; "
                    "wait for it to finish or choose another -o file"
                ) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a lock file its previous owner removed while we waited to open it
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        """Remove the lock file and release the lock (safe to call twice)."""
        if self._fd is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            os.close(self._fd)
            self._fd = None
