"""Reading YAML or JSON text into plain data, safely, boundedly and with positions on error;
writing JSON strictly.

Only safe YAML loading is used: a tag that would construct a Python object is
an input error, never code. Duplicate keys are errors, not "last one wins",
because a silently dropped key is something the user gave that got lost.

Every input is bounded before it can cost much: a file is read only when it is
a regular file or a pipe, and at most ``max_input_bytes()``; a document nests
at most ``MAX_DEPTH`` levels; YAML aliases may add at most ``ALIAS_BUDGET``
values to a document (a few hundred bytes of aliases can otherwise stand for
billions of values, which any later walk over the data would expand).
"""
from __future__ import annotations

import json
import math
import os
import stat
from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

import yaml

from placement.models.block_yaml import read_block_yaml
from placement.models.errors import InputError, InternalError, Problem, excerpt

MAX_INPUT_MIB = 256  # default cap on one input file (a 5,000-node cluster file is about 41 MiB); PLACEMENT_MAX_INPUT_MIB overrides it
MAX_DEPTH = 64  # a cluster file nests 5 levels, a plan document 6, kubectl's JSON about 15
ALIAS_BUDGET = 1_000_000  # values YAML aliases may add to a document beyond those written out

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that refuses duplicate keys."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    written = {id(key_node) for key_node, _ in node.value}  # this mapping's own keys; merge keys (<<) bring others
    loader.flatten_mapping(node)  # merged pairs first, so a key written here overrides them, as YAML's merge means
    mapping: dict = {}
    own: set = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from None
        if id(key_node) in written:  # only a key written twice here is a duplicate
            if key in own:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {excerpt(key)}", key_node.start_mark
                )
            own.add(key)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _DuplicateJsonKey(ValueError):
    pass


def _json_object(pairs: list[tuple[str, Any]]) -> dict:
    result = dict(pairs)  # one C call (171,502 objects in a 5,000-node cluster); a duplicate leaves it shorter
    if len(result) == len(pairs):
        return result
    seen: set = set()
    for key, _ in pairs:  # the first key seen twice, as the former loop named it
        if key in seen:
            raise _DuplicateJsonKey(key)
        seen.add(key)
    raise AssertionError("unreachable: a shorter dictionary has a duplicate key")


def _yaml_problem(exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    what = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if context and "constructor" in context:
        context = None
    if "could not determine a constructor" in what or "tag" in what and "python" in what:
        what = f"{what}; tags that construct objects are not allowed, write plain values"
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "the document"
    detail = f"{context}: {what}" if context else what
    return Problem(where, f"malformed YAML: {detail}")


def max_input_bytes() -> int:
    """The cap on one input file: MAX_INPUT_MIB, or the environment's PLACEMENT_MAX_INPUT_MIB."""
    raw = os.environ.get("PLACEMENT_MAX_INPUT_MIB", "")
    try:
        mib = float(raw) if raw else MAX_INPUT_MIB
    except ValueError:
        mib = MAX_INPUT_MIB
    if not math.isfinite(mib) or mib <= 0:
        mib = MAX_INPUT_MIB
    return int(min(mib, 1 << 20) * 2**20)


def _refuse_json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number: write a finite number")


def parse_text(text: str, source: str, *, as_json: bool | None = None) -> Any:
    """Parse YAML or JSON text; JSON when told so or when it starts with '{' or '['.
    The result nests at most MAX_DEPTH levels and YAML aliases expand it by at most ALIAS_BUDGET values."""
    text = text.removeprefix("\ufeff")  # a byte order mark (Windows editors): YAML skips it, JSON refuses it
    if not text.strip():
        raise InputError(source, Problem("", "the file is empty; expected a cluster document (YAML or JSON)"))
    sniffed = as_json is None and not source.endswith(".json")  # YAML's flow style starts with '{' or '[' too
    if as_json is None:
        as_json = source.endswith(".json") or text.lstrip()[:1] in ("{", "[")
    json_problem = None
    if as_json:
        try:
            data = json.loads(text, object_pairs_hook=_json_object, parse_constant=_refuse_json_constant)
        except _DuplicateJsonKey as exc:
            raise InputError(source, Problem("", f"malformed JSON: duplicate key {excerpt(str(exc))}; each key may appear once per object")) from None
        except json.JSONDecodeError as exc:
            json_problem = Problem(f"line {exc.lineno}, column {exc.colno}", f"malformed JSON: {exc.msg}")
            if not sniffed:
                raise InputError(source, json_problem) from None
            as_json = False  # read it as YAML; if that fails too, a file not named .yaml hears about its JSON
        except RecursionError:
            raise InputError(source, _too_deep()) from None
        except ValueError as exc:  # NaN or Infinity, or an integer of more than 4,300 digits
            raise InputError(source, Problem("", f"malformed JSON: {_value_problem(exc)}")) from None
    if not as_json:
        block = _block_yaml(text)
        if block is not None:  # nested at most MAX_DEPTH // 2 block levels, its flow collections of scalars:
            return block  # within MAX_DEPTH, and nothing shared (no anchor), so check_shape has nothing to find
        try:
            data = _plain_yaml(text)
            if data is _UNUSUAL:  # a tag, an anchor, a merge key, a duplicate, an error: the full loader decides
                data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a safe loader subclass
        except yaml.YAMLError as exc:
            yaml_named = source.endswith((".yaml", ".yml"))
            raise InputError(source, json_problem if json_problem and not yaml_named else _yaml_problem(exc)) from None
        except RecursionError:
            raise InputError(source, _too_deep()) from None
        except (ValueError, OverflowError) as exc:  # an integer of more than 4,300 digits, a date out of range
            raise InputError(source, Problem("", f"malformed YAML: {_value_problem(exc)}")) from None
    check_shape(data, source, shared=not as_json and "&" in text)  # no anchor, no alias: nothing is shared
    return data


_UNUSUAL = object()  # _plain_yaml's answer for a document it leaves to the full loader
_PLAIN_TAGS = frozenset("tag:yaml.org,2002:" + name for name in ("null", "bool", "int", "float", "str", "timestamp"))
_StreamStart, _DocumentStart, _DocumentEnd, _StreamEnd = (
    yaml.StreamStartEvent, yaml.DocumentStartEvent, yaml.DocumentEndEvent, yaml.StreamEndEvent)
_Scalar, _SequenceStart, _SequenceEnd, _MappingStart, _MappingEnd = (
    yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.SequenceEndEvent, yaml.MappingStartEvent, yaml.MappingEndEvent)


def _plain_yaml(text: str) -> Any:
    """The value ``yaml.load(text, Loader=_StrictLoader)`` gives, built straight from libyaml's
    events, or ``_UNUSUAL``. PyYAML's composer and constructor cost about 1.5 us a scalar in
    Python (6-8 s for a 5,000-node cluster file); most scalars repeat (names, numbers), so
    each distinct (text, style) is resolved and constructed once, by PyYAML's own resolver
    and constructors. Only one document of mappings, sequences and untagged scalars resolving
    to null, bool, int, float, str or timestamp, without anchors, nested at most MAX_DEPTH
    levels, with no duplicate key and no container as a key, is built here; anything else
    (and any error at all) is ``_UNUSUAL``, and the full loader reads the document again,
    so its values and its error messages are the ones the user gets."""
    loader = _StrictLoader(text)
    try:
        return _plain_events(loader)
    except Exception:  # noqa: BLE001 - the full loader reads it again and reports it its own way
        return _UNUSUAL
    finally:
        loader.dispose()


def _block_yaml(text: str) -> Any:
    """The value ``yaml.load(text, Loader=_StrictLoader)`` gives, read a line at a time by
    ``models.block_yaml`` where the text lies in the plain block subset cluster generators write
    (libyaml's 2 million events of a 5,000-node file cost 1.2 s alone; its lines, 0.85 s), each
    distinct scalar resolved by PyYAML's own resolver and constructors; None otherwise (then
    ``_plain_yaml``, and the full loader after it, read the text)."""
    if not text.isascii():
        return None
    loader = _StrictLoader("")  # its resolver and constructors only
    try:
        return read_block_yaml(text, _scalar_of(loader), MAX_DEPTH)
    finally:
        loader.dispose()


class _NotPlain(Exception):
    """A scalar that resolves to something other than a plain value (a merge key, ``=``)."""


def _scalar_of(loader: Any):
    """``read_block_yaml``'s scalars: plain or quoted text -> the value PyYAML's resolver and
    constructors give it, as ``_plain_events`` builds them."""
    resolve, constructors, scalar_node = loader.resolve, loader.yaml_constructors, yaml.ScalarNode
    plain_implicit, quoted_implicit = (True, False), (False, True)

    def scalar(text: str, plain: bool) -> Any:
        tag = resolve(scalar_node, text, plain_implicit if plain else quoted_implicit)
        if tag not in _PLAIN_TAGS:
            raise _NotPlain
        return constructors[tag](loader, scalar_node(tag, text))
    return scalar


def _plain_events(loader: Any) -> Any:
    get = loader.get_event
    if type(get()) is not _StreamStart or type(get()) is not _DocumentStart:
        return _UNUSUAL
    resolve, constructors, scalar_node = loader.resolve, loader.yaml_constructors, yaml.ScalarNode
    known: dict[tuple[str, tuple[bool, bool]], Any] = {}  # (text, implicit) -> its value
    no_key = known  # a marker: the open mapping waits for a key
    stack: list[tuple[Any, Any]] = []  # enclosing (container, its pending key)
    top: Any = None  # the open container (None: the document's root is not read yet)
    key: Any = no_key
    while True:
        event = get()
        kind = type(event)
        if kind is _Scalar:
            if event.anchor is not None or event.tag is not None:
                return _UNUSUAL
            cache_key = (event.value, event.implicit)
            try:
                value = known[cache_key]
            except KeyError:
                tag = resolve(scalar_node, event.value, event.implicit)
                if tag not in _PLAIN_TAGS:  # merge key <<, value =, or a resolver someone added
                    return _UNUSUAL
                value = known[cache_key] = constructors[tag](loader, scalar_node(tag, event.value))
        elif kind is _MappingStart or kind is _SequenceStart:
            if event.anchor is not None or event.tag is not None or (type(top) is dict and key is no_key):
                return _UNUSUAL  # a tag, an anchor, or a container as a mapping's key
            if len(stack) >= MAX_DEPTH:  # deeper: the full loader's own refusal (RecursionError or check_shape)
                return _UNUSUAL
            stack.append((top, key))
            top, key = ({} if kind is _MappingStart else []), no_key
            continue
        elif kind is _MappingEnd or kind is _SequenceEnd:
            value = top
            top, key = stack.pop()
        else:
            return _UNUSUAL
        if type(top) is list:
            top.append(value)
        elif type(top) is dict:
            if key is no_key:
                if value in top:
                    return _UNUSUAL  # a duplicate key: the full loader says where
                key = value
            else:
                top[key] = value
                key = no_key
        else:  # the root
            if type(get()) is not _DocumentEnd or type(get()) is not _StreamEnd:
                return _UNUSUAL  # more than one document
            return value


def _value_problem(exc: Exception) -> str:
    text = str(exc)
    if "integer string conversion" in text:
        return "a number has more than 4,300 digits; no figure in a cluster or plan document is that long"
    return f"a value cannot be read: {text[:200]}"


def _too_deep() -> Problem:
    return Problem("", f"the document is nested too deeply; placement reads documents nested at most {MAX_DEPTH} levels")


def check_shape(data: Any, source: str, *, shared: bool = True) -> None:
    """Refuse a document nested over MAX_DEPTH levels, one that contains itself (a YAML alias inside
    its own anchor), and one whose aliases add more than ALIAS_BUDGET values. ``shared=False`` (JSON,
    or YAML without an anchor: nothing can be shared) checks the depth alone, level by level."""
    if not shared:
        level = [data] if isinstance(data, (dict, list)) else []
        for _ in range(MAX_DEPTH):
            if not level:
                return
            level = [child for node in level for child in (node.values() if type(node) is dict else node)
                     if type(child) is dict or type(child) is list]
        if level:
            raise InputError(source, Problem("", f"the document nests more than {MAX_DEPTH} levels deep; placement "
                                                 f"reads documents nested at most {MAX_DEPTH} levels"))
        return
    done: dict[int, tuple[int, int]] = {}  # id -> (values once expanded, depth)
    open_: set[int] = set()
    written = 0  # values as the document holds them, each shared container once
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        children = node.values() if isinstance(node, dict) else node
        if finished:
            size, depth = 1 + (len(node) if isinstance(node, dict) else 0), 1  # a mapping's keys count too
            for child in children:
                if isinstance(child, (dict, list)):
                    child_size, child_depth = done[id(child)]
                    size += child_size
                    depth = max(depth, child_depth + 1)
                else:
                    size += 1
            done[key] = (size, depth)
            open_.discard(key)
            written += 1 + len(node) * (2 if isinstance(node, dict) else 1)
            if depth > MAX_DEPTH:
                raise InputError(source, Problem("", f"the document nests more than {MAX_DEPTH} levels deep; placement reads "
                                                     f"documents nested at most {MAX_DEPTH} levels"))
            continue
        if key in done:
            continue
        if key in open_:
            raise InputError(source, Problem("", "the document contains itself (a YAML alias inside its own anchor); "
                                                 "write the values out"))
        open_.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if isinstance(child, (dict, list)))
    expanded = done[id(data)][0] if isinstance(data, (dict, list)) else 1
    if expanded - written > ALIAS_BUDGET:
        raise InputError(source, Problem("", f"YAML aliases expand the document to {_count(expanded)} values from about "
                                             f"{written:,} written; aliases may add at most {ALIAS_BUDGET:,} values: "
                                             "write the values out or use fewer aliases"))


def _count(n: int) -> str:
    return f"{n:,}" if n.bit_length() < 128 else excerpt(n)


def is_directory(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a directory; False for a path that cannot even be looked at (too long,
    a loop of links), which reading it then reports as an input error."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def read_text(path: str | Path, *, limit: int | None = None, what: str = "a YAML or JSON file") -> str:
    """The UTF-8 text of a regular file or a pipe, at most ``limit`` bytes (max_input_bytes()):
    devices, sockets and directories are not read at all, so ``/dev/zero`` costs nothing."""
    source = str(path)
    limit = max_input_bytes() if limit is None else limit
    try:
        kind = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(source, Problem("", "no such file; check the path")) from None
    except (OSError, ValueError) as exc:
        raise InputError(source, Problem("", f"cannot be read: {getattr(exc, 'strerror', None) or exc}")) from None
    if stat.S_ISDIR(kind):
        raise InputError(source, Problem("", f"is a directory; expected {what}"))
    if not (stat.S_ISREG(kind) or stat.S_ISFIFO(kind)):
        raise InputError(source, Problem("", f"is not a regular file or a pipe (a device or a socket); expected {what}, "
                                             "so nothing was read from it"))
    try:
        # O_NONBLOCK: opening a named pipe nobody writes to does not wait for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(source, Problem("", f"cannot be read: {exc.strerror}")) from None
    try:
        opened = os.fstat(fd)
        if not (stat.S_ISREG(opened.st_mode) or stat.S_ISFIFO(opened.st_mode)):  # replaced since the stat above
            raise InputError(source, Problem("", f"is not a regular file or a pipe; expected {what}"))
        if stat.S_ISREG(opened.st_mode) and opened.st_size > limit:
            raise InputError(source, _too_large(opened.st_size, limit))
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise InputError(source, _too_large(None, limit))
    except OSError as exc:
        raise InputError(source, Problem("", f"cannot be read: {exc.strerror}")) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(source, Problem(f"byte {exc.start}", "the file is not UTF-8 text")) from None


def _too_large(size: int | None, limit: int) -> Problem:
    told = f"is {_bytes(size)}" if size is not None else "holds more than that"
    return Problem("", f"is larger than the {_bytes(limit)} placement reads from one input file ({told}); "
                       "raise PLACEMENT_MAX_INPUT_MIB if it really is that large")


def _bytes(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB" if n >= 2**20 else f"{n:,} bytes"


def read_document(path: str | Path) -> Any:
    """Read and parse a YAML or JSON file, turning every failure into an InputError."""
    if not isinstance(path, (str, os.PathLike)):
        raise InputError("arguments", Problem("path", f"expected a file path (a string or a Path), got {excerpt(path)}"))
    return parse_text(read_text(path), str(path))


def dump_json(data: Any) -> str:
    """Strict JSON text (indent 2, a final newline): a NaN or an infinity is a bug in placement
    (exit 3), never written as the invalid ``NaN``/``Infinity``.

    The text is exactly ``json.dumps(data, indent=2, allow_nan=False)``'s, written by
    ``_text`` (the standard library encodes indented JSON in pure Python, one generator
    step per token: 1.6 s for a 5,000-node plan's 150,000 partitions; ``_text`` joins whole
    lines, 0.6 s). Anything it does not know (a NaN, another type, a cycle)
    goes to ``json.dumps`` itself, so errors stay the standard library's."""
    try:
        return _text(data, 0) + "\n"
    except (_Unusual, RecursionError):
        pass
    try:
        return json.dumps(data, indent=2, allow_nan=False) + "\n"
    except ValueError as exc:
        raise InternalError(f"a figure of the output is not a finite number ({exc}); "
                            "this is a bug: please report it with the input files") from None


class _Unusual(Exception):
    """A value ``_text`` leaves to ``json.dumps`` (which writes it or raises its own error)."""


_encode_str = json.encoder.encode_basestring_ascii  # what json.dumps uses with ensure_ascii (C when available)
_INDENTS: list[str] = []  # depth -> "\n" and two spaces per level


def _indent(depth: int) -> str:
    while len(_INDENTS) <= depth:
        _INDENTS.append("\n" + "  " * len(_INDENTS))
    return _INDENTS[depth]


def _key(key: Any) -> str:
    """A mapping's key: json.dumps writes a number, true, false or null key as that text quoted."""
    if type(key) is str:
        return _encode_str(key)
    if key is None or type(key) in (bool, int, float):
        return '"' + _text(key, 0) + '"'
    raise _Unusual


def _text(value: Any, depth: int) -> str:
    """``value`` as indented JSON (two spaces a level) at ``depth``. Exact types only: a subclass,
    a NaN or an infinity raises ``_Unusual`` (json.dumps then writes it or raises its own error)."""
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if kind is int:
        return int.__repr__(value)
    if kind is dict:
        if not value:
            return "{}"
        if depth > MAX_DEPTH * 8:  # deeper than any document of ours: perhaps a cycle
            raise _Unusual
        inner = _indent(depth + 1)
        return "{" + inner + ("," + inner).join(_members(value, depth)) + _indent(depth) + "}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        if depth > MAX_DEPTH * 8:
            raise _Unusual
        inner = _indent(depth + 1)
        kinds = set(map(type, value))
        if kinds == _INTS:  # plain numbers (replica lists): one join
            return "[" + inner + ("," + inner).join(map(int.__repr__, value)) + _indent(depth) + "]"
        if kinds == _DICTS and all(value):  # records (a plan's 150,000 partitions): no call per record
            return "[" + inner + ("," + inner).join(_records(value, depth)) + _indent(depth) + "]"
        return "[" + inner + ("," + inner).join([_text(v, depth + 1) for v in value]) + _indent(depth) + "]"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    raise _Unusual


_INTS = {int}
_DICTS = {dict}


def _records(records: list, depth: int) -> list[str]:
    """The texts of a list's non-empty mappings, the list at ``depth``: what ``_members`` writes.
    Records that share their keys (a plan's 150,000 partitions) are written a column at a time:
    one template of their keys (``"topic": %s,`` ...), each column's texts made by ``map`` over
    the column where its values are all strings, all integers or all non-empty lists of integers
    (``_text`` value by value otherwise), and the templates filled by ``map``: no Python-level
    step per record."""
    if depth + 1 > MAX_DEPTH * 8:
        raise _Unusual
    deeper, deepest = _indent(depth + 2), _indent(depth + 3)
    opening, between, closing = "{" + deeper, "," + deeper, _indent(depth + 1) + "}"
    shapes = set(map(tuple, records))
    keys = next(iter(shapes))
    if len(shapes) != 1 or set(map(type, keys)) != _STRS:
        return [opening + between.join(_members(v, depth + 1)) + closing for v in records]
    slots, columns = [], []
    for column in (list(map(itemgetter(k), records)) for k in keys):
        kinds = set(map(type, column))
        if kinds == _STRS:
            slot, texts = "%s", map(_encode_str, column)
        elif kinds == _INTS:
            slot, texts = "%s", map(int.__repr__, column)
        elif kinds == _INTS_OR_NULLS:
            slot, texts = "%s", ["null" if v is None else int.__repr__(v) for v in column]
        elif kinds == _LISTS and all(column) and set(map(type, chain.from_iterable(column))) == _INTS:
            slot = "[" + deepest + "%s" + deeper + "]"
            texts = map(("," + deepest).join, map(map, repeat(int.__repr__), column))
        else:
            slot, texts = "%s", [_text(v, depth + 2) for v in column]
        slots.append(slot)
        columns.append(texts)
    template = opening + between.join(_encode_str(k).replace("%", "%%") + ": " + slot
                                      for k, slot in zip(keys, slots)) + closing
    return list(map(template.__mod__, zip(*columns)))


_LISTS = {list}
_INTS_OR_NULLS = {int, type(None)}
_STRS = {str}


def _members(value: dict, depth: int) -> list[str]:
    """A non-empty mapping's ``"key": value`` texts, the mapping at ``depth``."""
    if depth > MAX_DEPTH * 8:
        raise _Unusual
    items = []
    for k, v in value.items():
        key = _encode_str(k) if type(k) is str else _key(k)
        t = type(v)  # the common scalars and replica lists inline: most of a plan is these
        if t is str:
            items.append(key + ": " + _encode_str(v))
        elif t is int:
            items.append(key + ": " + int.__repr__(v))
        elif v is None:
            items.append(key + ": null")
        elif t is list and v and set(map(type, v)) == _INTS:
            inner = _indent(depth + 2)
            items.append(key + ": [" + inner + ("," + inner).join(map(int.__repr__, v)) + _indent(depth + 1) + "]")
        else:
            items.append(key + ": " + _text(v, depth + 1))
    return items
