"""What the command lines share (``grpo-symbolic`` and ``python -m paper_checks``): output paths
checked before any work, files replaced atomically (nothing half-written on failure), a progress
counter on stderr, a parser whose options may be given only once and whose errors are one line,
and echoed values kept short.

>>> shorten("beta: got '" + "1" * 5000 + "'; give a number > 0")
"beta: got '11111111111111111111111111111…[5003 characters]… give a number > 0"
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from grpo_symbolic.model.errors import ParameterError

#: Longest run of non-blank characters echoed in a message (longer ones are cut, with their length).
ECHO_LIMIT = 60


def shorten(message: str, limit: int = ECHO_LIMIT) -> str:
    """``message`` on one line, every run of more than ``limit`` non-blank characters cut to its
    first ``limit // 2`` (user input such as a 100,000-digit number is not echoed back whole)."""
    def cut(match: re.Match[str]) -> str:
        word = match.group(0)
        return f"{word[:limit // 2]}…[{len(word)} characters]…"

    return re.sub(rf"\S{{{limit + 1},}}", cut, " ".join(message.split()))


def output_path(value: str | os.PathLike[str], option: str) -> Path:
    """An output path from the command line, refused when empty or not encodable as UTF-8 (bytes
    that are not UTF-8 reach Python as lone surrogates).

    >>> output_path("", "--output")
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: --output: the path is empty; give a file or folder name
    """
    text = os.fspath(value)
    if not text.strip():
        raise ParameterError(f"{option}: the path is empty; give a file or folder name")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        shown = shorten(text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))
        raise ParameterError(f"{option}: the path {shown!r} is not valid UTF-8; use a name in UTF-8") from None
    return Path(text)


def writable_file(value: str | os.PathLike[str], option: str) -> Path:
    """``value`` as a file path that can be written (its folder exists and is writable; it is not a
    folder, nor a file we may not replace), checked before any work."""
    path = output_path(value, option)
    if path.is_dir():
        raise ParameterError(f"{option}: {shorten(str(path))} is a folder; give a file name")
    _writable_folder(path.parent if str(path.parent) else Path("."), option, must_exist=True)
    if path.exists() and not os.access(path, os.W_OK):
        raise ParameterError(f"{option}: cannot write {shorten(str(path))} (permission denied)")
    return path


def writable_folder(value: str | os.PathLike[str], option: str) -> Path:
    """``value`` as a folder that exists and is writable, or can be created (its nearest existing
    ancestor is a writable folder), checked before any work."""
    path = output_path(value, option)
    _writable_folder(path, option, must_exist=False)
    return path


def _writable_folder(path: Path, option: str, must_exist: bool) -> None:
    existing = path
    while not existing.exists() and not must_exist and existing != existing.parent:
        existing = existing.parent
    if not existing.exists():
        raise ParameterError(f"{option}: the folder {shorten(str(existing))} does not exist; create it first")
    if not existing.is_dir():
        raise ParameterError(f"{option}: {shorten(str(existing))} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ParameterError(f"{option}: cannot write into {shorten(str(existing))} (permission denied)")


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path in ``path``'s folder to write to; on success it replaces ``path`` (an atomic
    rename), on failure it is removed and ``path`` is left as it was.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     target = Path(folder) / "out.txt"
    ...     with replacing(target) as temporary:
    ...         _ = temporary.write_text("done")
    ...     sorted(p.name for p in Path(folder).iterdir()), target.read_text()
    (['out.txt'], 'done')
    """
    target = Path(path)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def discard_stdout() -> None:
    """After a failed write to standard output (a full disk, a closed pipe): point it at the null
    device, so the interpreter's final flush does not fail a second time with a traceback."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class Progress:
    """A counter on stderr (``latex 3/40: eq:11``), rewritten in place; silent when ``quiet`` or
    when the stream is not a terminal.  Call :meth:`start` before each item and :meth:`clear`
    before printing anything else to the same terminal.

    >>> import io
    >>> class Terminal(io.StringIO):
    ...     def isatty(self): return True
    >>> stream = Terminal()
    >>> progress = Progress("check", 2, stream=stream)
    >>> progress.start("eq14-sqrt"); progress.clear()
    >>> stream.getvalue() == "\\rcheck 1/2: eq14-sqrt\\x1b[K\\r\\x1b[K"
    True
    >>> Progress("check", 2, stream=io.StringIO()).enabled  # not a terminal: quiet
    False
    """

    def __init__(self, label: str, total: int, *, quiet: bool = False, stream: TextIO | None = None):
        self.label, self.total, self.done = label, total, 0
        self.stream = sys.stderr if stream is None else stream
        self.enabled = not quiet and _is_terminal(self.stream)
        self._shown = False

    def start(self, item: str) -> None:
        """Count one more item and show it."""
        self.done += 1
        if self.enabled:
            self.stream.write(f"\r{self.label} {self.done}/{self.total}: {shorten(item)}\x1b[K")
            self.stream.flush()
            self._shown = True

    def clear(self) -> None:
        """Erase the counter's line (if one is shown)."""
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class StoreOnce(argparse.Action):
    """argparse's ``store``, but an option given twice is a usage error instead of silently
    keeping the last value (registered as the default action by the command-line parsers)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[Any] | None, option_string: str | None = None) -> None:
        given: set[str] = namespace.__dict__.setdefault("_given_once", set())
        if self.dest in given:
            raise argparse.ArgumentError(self, "given more than once; give it once")
        given.add(self.dest)
        setattr(namespace, self.dest, values)


class UsageError(Exception):
    """A bad command line, reported as one line by the command's ``main``."""


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser for our command lines: its errors raise :class:`UsageError` (printed as one
    line by the caller, not with the usage), an option given twice is an error (:class:`StoreOnce`),
    and a failed write of ``--help`` raises instead of being ignored (argparse drops it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, StoreOnce)  # subparsers are created with this class too
        self.register("action", "store", StoreOnce)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            (sys.stderr if file is None else file).write(message)
