"""Writing the files a command makes: checked before any work, written whole or not at all.

    outputs = Outputs(inputs=[cluster_file])          # what the command reads
    plan_file = outputs.file(path, "-o")              # refused now (exit 2), before any solving, if
                                                      # it names an input, a missing folder, a device
                                                      # (/dev/full), a directory or a read-only file
    ...                                               # the long work
    outputs.write({plan_file: text})                  # each written to a temporary file in its folder,
                                                      # then renamed over the target: a failed write
                                                      # (a full disk) leaves every target as it was

A write that fails is an InputError (exit 2) naming the file, never a traceback.
"""
from __future__ import annotations

import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from placement.models.documents import dump_json
from placement.models.errors import InputError, Problem, excerpt

__all__ = ["OutputFile", "Outputs", "discard_stdout", "json_text", "stdout_discarded", "write_stdout"]

_discarded = False  # the reader of standard output went away: the rest of it is thrown away


def json_text(data) -> str:
    """Strict JSON with a final newline (a NaN or an infinity is a bug: exit 3, never invalid JSON)."""
    return dump_json(data)


@dataclass(frozen=True)
class OutputFile:
    path: str  # as the user wrote it, for messages
    target: str  # the real path written (symbolic links resolved)
    option: str  # "-o", "--report", ...
    executable: bool = False

    def refuse(self, message: str) -> InputError:
        return InputError(self.path, Problem(self.option, message))


class Outputs:
    """The files one command writes, checked against each other and against what it reads."""

    def __init__(self, inputs: Iterable[str | os.PathLike] = ()):
        self.inputs = [str(p) for p in inputs if p is not None and str(p) != "-"]
        self.files: list[OutputFile] = []

    def file(self, path: str | os.PathLike, option: str = "-o", *, executable: bool = False) -> OutputFile:
        """Check now that ``path`` can be written and names no input; raise InputError if not."""
        shown = os.fspath(path)
        if not shown or "\0" in shown:
            raise InputError(excerpt(shown), Problem(option, "is not a file name"))
        target = os.path.realpath(shown)
        out = OutputFile(shown, target, option, executable)
        self._refuse_inputs(out)
        for other in self.files:
            if other.target == target:
                raise out.refuse(f"is also where {other.option} writes; give each output its own file")
        _check_writable(out)
        self.files.append(out)
        return out

    def _refuse_inputs(self, out: OutputFile) -> None:
        for given in self.inputs:
            real = os.path.realpath(given)
            if os.path.isdir(real):
                if os.path.commonpath([real, out.target]) == real:
                    raise out.refuse(f"is inside {given}, a directory this command reads; writing there would change "
                                     "its input: write elsewhere")
            elif real == out.target or _same_file(real, out.target):
                raise out.refuse(f"is {given}, which this command reads; writing there would destroy its input: "
                                 "write elsewhere")

    def write(self, texts: dict[OutputFile, str]) -> None:
        """Write every file, or none: each goes to a temporary file in its folder first; only when
        all are written are they renamed over their targets."""
        written: list[tuple[OutputFile, str]] = []
        try:
            for out, text in texts.items():
                written.append((out, _write_temporary(out, text)))
        except BaseException:
            for _, temporary in written:
                _remove(temporary)
            raise
        for i, (out, temporary) in enumerate(written):
            try:
                os.replace(temporary, out.target)
            except OSError as exc:
                for _, left in written[i:]:
                    _remove(left)
                raise out.refuse(f"cannot be written: {exc.strerror}") from None


def write_stdout(text: str) -> None:
    """Standard output. A reader that stops early (``| head``) is no error: the rest is discarded
    (``discard_stdout``) and the command ends with its verdict's status. A full device is the
    CLI's to report (exit 2)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        discard_stdout()


def discard_stdout() -> None:
    """The reader of standard output closed it (``placement plan ... | head -1``). The recipe of the
    Python documentation (signal module, "Note on SIGPIPE"): point the descriptor at /dev/null, so
    that nothing written later, nor the flush at exit, fails again. Unlike that recipe the command
    carries on, so that its exit status is its verdict's (0, 1), never an error of its own."""
    global _discarded
    _discarded = True
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # a stand-in stdout (CliRunner) has no descriptor
        pass


def stdout_discarded() -> bool:
    """Has the reader of standard output gone away (the rest of the output thrown away)?"""
    return _discarded


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _check_writable(out: OutputFile) -> None:
    folder = os.path.dirname(out.target) or "."
    try:
        kind = os.stat(out.target)
    except FileNotFoundError:
        kind = None
    except OSError as exc:
        raise out.refuse(f"cannot be written: {exc.strerror}") from None
    if kind is not None:
        if stat.S_ISDIR(kind.st_mode):
            raise out.refuse("is a directory; give a file name")
        if not stat.S_ISREG(kind.st_mode):
            raise out.refuse("is not a regular file (a device such as /dev/full, a pipe or a socket): placement writes "
                             "a file whole and renames it into place; leave the option out to write to standard output")
        if not os.access(out.target, os.W_OK) or not kind.st_mode & 0o222:
            raise out.refuse("is read-only; make it writable or write elsewhere")
    if not os.path.isdir(folder):
        raise out.refuse(f"cannot be written: the folder {folder} does not exist; create it first")
    try:  # the one honest test that a file can be created there (read-only file systems, root or not)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(out.target)}.", suffix=".probe")
    except OSError as exc:
        raise out.refuse(f"cannot be written: the folder {folder} does not take new files ({exc.strerror})") from None
    os.close(fd)
    _remove(probe)


def _write_temporary(out: OutputFile, text: str) -> str:
    folder = os.path.dirname(out.target) or "."
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(out.target)}.", suffix=".tmp")
    except OSError as exc:
        raise out.refuse(f"cannot be written: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        _take_mode(out, temporary)
    except OSError as exc:
        _remove(temporary)
        raise out.refuse(f"cannot be written: {exc.strerror}; the file is as it was") from None
    except BaseException:
        _remove(temporary)
        raise
    return temporary


def _take_mode(out: OutputFile, temporary: str) -> None:
    """The mode (and, as root, the owner) of the file replaced; a new file's by the umask."""
    try:
        old = os.stat(out.target)
    except FileNotFoundError:
        old = None
    mask = _umask()
    mode = stat.S_IMODE(old.st_mode) if old is not None else 0o666 & ~mask
    if out.executable:
        mode |= 0o111 & ~mask
    os.chmod(temporary, mode)
    if old is not None and hasattr(os, "geteuid") and os.geteuid() == 0:
        try:
            os.chown(temporary, old.st_uid, old.st_gid)
        except OSError:
            pass


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def paths_of(files: Iterable[OutputFile]) -> list[str]:
    return [f.path for f in files]


def resolve(path: str | os.PathLike) -> Path:
    return Path(os.path.realpath(os.fspath(path)))
