"""Reading YAML or JSON text into plain data, safely and with positions on error.

Only safe YAML loading is used: a tag that would construct a Python object is
an input error, never code. Duplicate keys are errors, not "last one wins",
because a silently dropped key is something the user gave that got lost.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from placement.models.errors import InputError, Problem

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that refuses duplicate keys."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from None
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _DuplicateJsonKey(ValueError):
    pass


def _json_object(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateJsonKey(key)
        result[key] = value
    return result


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


def parse_text(text: str, source: str, *, as_json: bool | None = None) -> Any:
    """Parse YAML or JSON text; JSON when told so or when it starts with '{' or '['."""
    if not text.strip():
        raise InputError(source, Problem("", "the file is empty; expected a cluster document (YAML or JSON)"))
    if as_json is None:
        as_json = source.endswith(".json") or text.lstrip()[:1] in ("{", "[")
    if as_json:
        try:
            return json.loads(text, object_pairs_hook=_json_object)
        except _DuplicateJsonKey as exc:
            raise InputError(source, Problem("", f"malformed JSON: duplicate key {str(exc)!r}; each key may appear once per object")) from None
        except json.JSONDecodeError as exc:
            raise InputError(source, Problem(f"line {exc.lineno}, column {exc.colno}", f"malformed JSON: {exc.msg}")) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a safe loader subclass
    except yaml.YAMLError as exc:
        raise InputError(source, _yaml_problem(exc)) from None


def read_document(path: str | Path) -> Any:
    """Read and parse a YAML or JSON file, turning every failure into an InputError."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(source, Problem("", "no such file; check the path")) from None
    except IsADirectoryError:
        raise InputError(source, Problem("", "is a directory; expected a YAML or JSON file")) from None
    except UnicodeDecodeError as exc:
        raise InputError(source, Problem(f"byte {exc.start}", "the file is not UTF-8 text")) from None
    except OSError as exc:
        raise InputError(source, Problem("", f"cannot be read: {exc.strerror}")) from None
    return parse_text(text, source)
