"""A line reader for the plain block YAML that cluster files are written in, or ``None``.

libyaml hands every token to Python as an event object: 2 million of them, 1.2 s, for a
5,000-node cluster file, before anything is built. Such a file is mostly lines of one
shape -- ``key: scalar``, ``- key: scalar``, ``key: [a, b, c]``, ``- {k: v, k: v}`` --
so this reads it a line at a time instead, for a narrow subset of YAML whose meaning is
plain (``documents._plain_yaml``'s events path, and then PyYAML's full loader, read
everything else):

- ASCII printable text and newlines only: no tab, no carriage return, no trailing space;
  comment lines (``#`` first on the line) and blank lines anywhere; a first line ``---``;
- block mappings and sequences by indentation (a sequence may sit at its key's
  indentation, as PyYAML writes it), ``- key: ...`` opening a mapping in a sequence entry;
- flow sequences and mappings of scalars only (``[a, b]``, ``{k: v}``), a flow collection
  without quotes continued on deeper lines until it closes (PyYAML wraps long ones);
- scalars: plain ones of ``A-Z a-z 0-9 _ . / + -`` only (not ``-`` alone), and quoted
  ones without escapes (``'...'`` without ``'``, ``"..."`` without ``"`` or ``\\``).

Any line outside that subset (an anchor, a tag, a comment after a value, a multi-line
scalar, a duplicate key, a value more deeply indented than it may be) ends the reading
with ``None``. Each distinct scalar becomes its value through the caller's ``scalar``
(PyYAML's own resolver and constructors), so the values are the full loader's.

O(L + C) for L lines and C characters.
"""
from __future__ import annotations

import re
from typing import Any, Callable

_PLAIN = re.compile(r"[A-Za-z0-9_./+-]+\Z")
_CONTROL = tuple(chr(c) for c in (*range(10), *range(11, 32), 127))  # every ASCII control character but \n


def _plain_text(text: str) -> bool:
    """ASCII printable characters and newlines only, no line ending in a space (str methods:
    a regular expression over 11 MB took 0.1 s)."""
    return text.isascii() and not text.endswith(" ") and " \n" not in text and not any(c in text for c in _CONTROL)


_MISSING = object()
# libyaml refuses an implicit key longer than 1024 characters (YAML 1.1's limit): longer keys are
# left to it, with some room for how it counts
LONGEST_KEY = 1000


class _Outside(Exception):
    """A line outside the subset: the caller reads the text another way."""


def read_block_yaml(text: str, scalar: Callable[[str, bool], Any], max_depth: int) -> Any:
    """The document's value, or None where the text lies outside the subset (a document whose
    value is null is outside it too). ``scalar(text, plain)``: a scalar's value (plain, or quoted)."""
    if not _plain_text(text):
        return None
    try:
        return _Reader(text, scalar, max_depth).document()
    except Exception:  # noqa: BLE001 - outside the subset, or a scalar the full loader refuses: it says how
        return None


def _token(text: str, scalar: Callable[[str, bool], Any], cache: dict) -> Any:
    """One scalar token (the whole of ``text``) -> its value."""
    try:
        return cache[text]
    except KeyError:
        pass
    if _PLAIN.match(text) and text != "-":
        value = scalar(text, True)
    elif len(text) >= 2 and ((text[0] == "'" == text[-1] and "'" not in text[1:-1])
                             or (text[0] == '"' == text[-1] and '"' not in text[1:-1] and "\\" not in text)):
        value = scalar(text[1:-1], False)
    else:
        raise _Outside
    cache[text] = value
    return value


class _Reader:
    def __init__(self, text: str, scalar: Callable[[str, bool], Any], max_depth: int):
        raw = text.split("\n")
        lines = [(len(line) - len(content), content) for line, content in zip(raw, [line.lstrip(" ") for line in raw])
                 if content and content[0] != "#"]
        if lines and lines[0] == (0, "---"):
            del lines[0]
        self.lines = lines
        self.scalar = scalar
        self.cache: dict[str, Any] = {}
        self.max_depth = max_depth

    def document(self) -> Any:
        lines = self.lines
        if not lines:
            raise _Outside
        value, i = self.node(0, lines[0][0], 0)
        if i != len(lines):
            raise _Outside  # a line less indented than the root's: not one document of this subset
        return value

    def node(self, i: int, indent: int, depth: int) -> tuple[Any, int]:
        if 2 * depth >= self.max_depth:
            raise _Outside  # deep (flow levels are not counted): the full loader's refusal, with its words
        content = self.lines[i][1]
        if content == "-" or content.startswith("- "):
            return self.sequence(i, indent, depth)
        return self.mapping(i, indent, depth)

    def sequence(self, i: int, indent: int, depth: int) -> tuple[list, int]:
        lines, out = self.lines, []
        end = len(lines)
        while i < end:
            at, content = lines[i]
            if at != indent:
                if at > indent:
                    raise _Outside
                break
            if content == "-":
                rest, column = "", indent + 1
            elif content.startswith("- "):
                rest = content[2:].lstrip(" ")
                column = indent + len(content) - len(rest)
            else:
                break
            if not rest:
                value, i = self.nested(i + 1, indent, depth)
            elif rest[0] in "[{":
                value, i = self.flow(i, rest, indent)
            elif rest == "-" or rest.startswith("- "):
                raise _Outside  # a sequence in a sequence entry's line
            elif rest.endswith(":") or ": " in rest:
                lines[i] = (column, rest)  # the entry's mapping, its first key where the line's text starts
                value, i = self.mapping(i, column, depth + 1)
            else:
                value = _token(rest, self.scalar, self.cache)
                i = self.after_value(i, indent)
            out.append(value)
        return out, i

    def mapping(self, i: int, indent: int, depth: int) -> tuple[dict, int]:
        lines, out, cache, scalar = self.lines, {}, self.cache, self.scalar
        end = len(lines)
        while i < end:  # the hot loop (a 5,000-node file: 350,000 keys): the cache read inline
            at, content = lines[i]
            if at != indent:
                if at > indent:
                    raise _Outside
                break
            if content[0] == "-" and (content == "-" or content[1] == " "):
                break
            cut = content.find(": ")
            if cut < 0:
                if not content.endswith(":"):
                    raise _Outside  # a scalar where a key belongs (or a multi-line one)
                text, rest = content[:-1], ""
            else:
                text, rest = content[:cut], content[cut + 2:]
                if rest[:1] == " ":
                    rest = rest.lstrip(" ")
            if len(text) > LONGEST_KEY:
                raise _Outside
            try:
                key = cache[text]
            except KeyError:
                key = _token(text, scalar, cache)
            if key in out:
                raise _Outside  # a duplicate: the full loader says where
            if not rest:
                nxt = lines[i + 1] if i + 1 < end else None
                if nxt is not None and nxt[0] == indent and (nxt[1] == "-" or nxt[1].startswith("- ")):
                    value, i = self.sequence(i + 1, indent, depth + 1)  # a sequence at its key's indentation
                else:
                    value, i = self.nested(i + 1, indent, depth)
            else:
                value = _MISSING
                if rest[0] == "[":  # most often a list of scalars already seen, on one line: read here
                    inner = rest[1:-1]
                    if rest[-1] == "]" and inner and "[" not in inner and "]" not in inner and "{" not in inner \
                            and "}" not in inner:
                        try:
                            value = list(map(cache.__getitem__, inner.split(", ")))
                        except KeyError:
                            pass
                elif rest[0] != "{":
                    try:
                        value = cache[rest]
                    except KeyError:
                        value = _token(rest, scalar, cache)
                if value is _MISSING:
                    value, i = self.flow(i, rest, indent)
                else:
                    i += 1  # a deeper next line (a multi-line scalar) is refused by the loop's first test
            out[key] = value
        return out, i

    def nested(self, i: int, indent: int, depth: int) -> tuple[Any, int]:
        """What follows an empty value: a block node on deeper lines, or null."""
        if i < len(self.lines) and self.lines[i][0] > indent:
            return self.node(i, self.lines[i][0], depth + 1)
        return None, i

    def after_value(self, i: int, indent: int) -> int:
        """The line after a complete value: a deeper one would continue it (a multi-line scalar)."""
        i += 1
        if i < len(self.lines) and self.lines[i][0] > indent:
            raise _Outside
        return i

    def flow(self, i: int, text: str, indent: int) -> tuple[Any, int]:
        """A flow collection of scalars starting on line i, continued on deeper lines until it closes."""
        closer = "]" if text[0] == "[" else "}"
        lines, end = self.lines, len(self.lines)
        if not text.endswith(closer):
            if "'" in text or '"' in text:
                raise _Outside  # a quoted scalar may span the lines (its line breaks and blank lines count)
            while not text.endswith(closer):
                i += 1
                if i >= end or lines[i][0] <= indent or "'" in lines[i][1] or '"' in lines[i][1]:
                    raise _Outside
                text += " " + lines[i][1]
        inner = text[1:-1]
        if "[" in inner or "{" in inner or "]" in inner or "}" in inner:
            raise _Outside  # nested collections
        scalar, cache = self.scalar, self.cache
        if closer == "]":
            try:  # as PyYAML writes them: ", " between scalars already seen (a cached text is a valid one)
                value: Any = list(map(cache.__getitem__, inner.split(", "))) if inner else []
            except KeyError:
                parts = inner.split(",")
                if len(parts) == 1 and not parts[0].strip(" "):
                    parts = []
                value = [_token(part.strip(" "), scalar, cache) for part in parts]
        else:
            parts = inner.split(",")
            if len(parts) == 1 and not parts[0].strip(" "):
                parts = []
            value = {}
            for part in parts:
                pair = part.strip(" ").split(": ")
                if len(pair) != 2 or len(pair[0]) > LONGEST_KEY:
                    raise _Outside
                key = _token(pair[0], scalar, cache)
                if key in value:
                    raise _Outside
                value[key] = _token(pair[1].lstrip(" "), scalar, cache)
        return value, self.after_value(i, indent)
