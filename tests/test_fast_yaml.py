"""parse_text's fast YAML path (models/documents.py _plain_yaml) against the full PyYAML loader:
for every document, the same value (same types, nested alike) or the same InputError message."""
from __future__ import annotations

import math
import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placement.models import documents
from placement.models.errors import InputError


def _old_parse(text: str):
    """parse_text as it was before the fast paths: the full loader for every YAML document."""
    real, block = documents._plain_yaml, documents._block_yaml
    documents._plain_yaml = lambda _text: documents._UNUSUAL
    documents._block_yaml = lambda _text: None
    try:
        return _outcome(text)
    finally:
        documents._plain_yaml, documents._block_yaml = real, block


def _outcome(text: str):
    try:
        return ("value", documents.parse_text(text, "x.yaml", as_json=False))
    except InputError as exc:
        return ("error", str(exc))


def _typed(value):
    """The value with every scalar's exact type beside it (1 == 1.0 == True otherwise; NaN != NaN)."""
    if type(value) is dict:
        return ("dict", [(_typed(k), _typed(v)) for k, v in value.items()])
    if type(value) is list:
        return ("list", [_typed(v) for v in value])
    if type(value) is float and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, repr(value))


def _same(text: str) -> None:
    new = _outcome(text)
    old = _old_parse(text)
    assert new[0] == old[0], (text, new, old)
    if new[0] == "error":
        assert new[1] == old[1], text
    else:
        assert _typed(new[1]) == _typed(old[1]), text


TRICKY = [
    "", "~", "null", "Null", "NULL", "nUll", "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "tRue",
    "false", "on", "On", "ON", "off", "Off", "OFF", "y", "n", "0", "-0", "+1", "12", "012", "0o17", "0x1F", "0xg",
    "0b101", "0b2", "1_000", "_1", "1:20", "190:20:30", "-1:30", "1.5", "1.", ".5", "1e3", "1.0e3", "1.0e+3", "-1.5E-3",
    ".inf", "-.Inf", "+.INF", ".nan", ".NaN", ".NAN", "1_0.5", "6.8523015e+5", "685.230_15e+03", "190:20:30.15",
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2002-12-14", "2001-13-14",
    "2001-12-14 21:59:43.10", "=", "<<", "abc", "a b", "ü", "名前", "-", "1 2", "0.", "+", "12345678901234567890",
    "9" * 5000, "2001-02-30", "1e400", "0x_1", "0b_1", "1__2",
]


@pytest.mark.parametrize("scalar", TRICKY)
def test_every_resolver_case_plain_and_quoted_as_value_key_and_item(scalar: str) -> None:
    for text in (f"k: {scalar}\n", f"k: '{scalar}'\n", f'k: "{scalar}"\n', f"{scalar}: v\n",
                 f"- {scalar}\n- x\n", f"[{scalar}, '{scalar}']\n", f"{{a: {scalar}, b: 1}}\n", f"{scalar}\n"):
        _same(text)


@pytest.mark.parametrize("text", [
    "a: 1\na: 2\n", "1: a\n1.0: b\n", "true: a\n1: b\n", "a: 1\n'a': 2\n", "? [1, 2]\n: v\n", "? {a: 1}\n: v\n",
    "a: &x [1]\nb: *x\n", "a: &x 1\nb: *x\n", "base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n", "<<: {a: 1}\n",
    "a: !!str 1\n", "a: !!int '7'\n", "a: !!binary aGVsbG8=\n", "a: !!set {x, y}\n", "a: !!omap [{a: 1}]\n",
    "a: !!python/object:os.system x\n", "a: !custom 1\n", "a: ! 1\n", "a: !!float 1\n", "a: = \n", "=: 1\n",
    "a: [1, 2\n", "a: {\n", "a: b: c\n", "- a\nb: 1\n", "a: 1\n---\nb: 2\n", "--- 1\n", "---\n...\n", "# only\n",
    "a:\n  b:\n    c: [1, {d: null}]\n", "a: |\n  x\n  y\n", "a: >\n  x\n  y\n", "a: 'it''s'\n", "a: \"\\t\\u00e9\"\n",
    "[" * 70 + "]" * 70, "[" * 64 + "]" * 64, "[" * 63 + "]" * 63, "[" * 65 + "]" * 65, "[" * 3000 + "]" * 3000,
    "a:\n" + "".join("  " * i + "- \n" for i in range(1, 80)), "a: 2001-02-30\n", "a: 1\n\tb: 2\n", "\x00", "a: \x07\n",
    "key: value # comment\n", "? a\n", "a:\n", "- - - x\n", "{a: [], b: {}}\n", "[]\n", "{}\n", "%YAML 1.1\n--- a\n",
])
def test_unusual_and_malformed_documents(text: str) -> None:
    _same(text)


_scalars = st.one_of(st.sampled_from(TRICKY[:-4]), st.text(alphabet=string.printable + "äß名-:#&*!|>'\"{}[],?%@`", max_size=8))


def _render_scalar(draw, text: str) -> str:
    style = draw(st.sampled_from(["plain", "single", "double"]))
    if style == "single":
        return "'" + text.replace("'", "''") + "'"
    if style == "double":
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text  # plain, perhaps malformed: the comparison covers errors too


@st.composite
def _documents(draw, depth: int = 0, indent: int = 0) -> str:
    shape = draw(st.sampled_from(["map", "seq", "flow"] if depth < 4 else ["scalar"]))
    pad = " " * indent
    if shape == "scalar":
        return _render_scalar(draw, draw(_scalars))
    if shape == "flow":
        items = [_render_scalar(draw, draw(_scalars)) for _ in range(draw(st.integers(0, 3)))]
        if draw(st.booleans()):
            return "[" + ", ".join(items) + "]"
        return "{" + ", ".join(f"{i}: {v}" for i, v in zip(items, reversed(items))) + "}"
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        child = draw(_documents(depth + 1, indent + 2))
        nested = child.startswith(" ") or "\n" in child
        if shape == "map":
            key = _render_scalar(draw, draw(_scalars))
            lines.append(f"{pad}{key}:" + ("\n" + child if nested else " " + child))
        else:
            lines.append(f"{pad}-" + ("\n" + child if nested else " " + child))
    return "\n".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents(), st.sampled_from(["", "&a ", "!!str ", "*a", "<<: {z: 1}\n"]))
def test_generated_documents_load_as_the_full_loader_loads_them(body: str, extra: str) -> None:
    _same(body + "\n")
    if extra.startswith("<<"):
        _same(extra + body + "\n")
    elif extra:
        _same("k: " + extra + body.splitlines()[0].lstrip() + "\n")


def test_the_fast_path_is_taken_for_a_plain_document() -> None:
    text = "a: [1, 'x', 2.5, null, yes, 2001-12-14]\nb: {c: d}\n"
    data = documents._plain_yaml(text)
    assert data is not documents._UNUSUAL
    assert data == yaml.load(text, Loader=documents._StrictLoader)  # noqa: S506 - a safe loader subclass


@pytest.mark.parametrize("text", ["a: &x 1\n", "a: !!str 1\n", "<<: {a: 1}\n", "a: 1\na: 2\n", "[1]\n---\n[2]\n", "a: [\n"])
def test_the_fast_path_leaves_unusual_documents_to_the_full_loader(text: str) -> None:
    assert documents._plain_yaml(text) is documents._UNUSUAL


@pytest.mark.parametrize("length", [900, 1000, 1023, 1024, 1025, 1100, 5000])
@pytest.mark.parametrize("shape", ["- {{'{k}': 1}}\n", "{k}: 1\n", "- {{{k}: 1}}\n", "a:\n  '{k}': 1\n"])
def test_a_long_key_reads_as_the_full_loader_reads_it(shape, length):
    """libyaml refuses an implicit key over 1024 characters; the fast paths leave such keys to it
    (a 5,000-character quoted key in a flow mapping was read by the line reader: found by hypothesis)."""
    _same(shape.format(k="9" * length))
