"""What an import assumed or could not resolve, each naming its file and item.

A contradiction or an unreadable source is not an item here: it is an
InputError (exit 2). Items are what the cluster file was built despite of:
``--strict`` turns any of them into exit 1.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

ASSUMED = "assumed"
UNRESOLVED = "unresolved"


@dataclass(frozen=True)
class Item:
    kind: str  # ASSUMED or UNRESOLVED
    source: str  # the file (or "<stdin>", "<object 2>") the item comes from
    item: str  # what it is about, e.g. "volume pvc-1a2b", "pod kafka/kafka-0"
    message: str  # what was assumed, or what could not be resolved and what follows

    def to_document(self) -> dict:
        return {"kind": self.kind, "source": self.source, "item": self.item, "message": self.message}

    def line(self) -> str:
        """One line, whatever the names hold: control characters (a pod name ending in a newline) are escaped."""
        return _one_line(f"{self.kind}: {self.source}: {self.item}: {self.message}")


_CONTROL = {c: repr(chr(c))[1:-1] for c in [*range(32), 127]}


def _one_line(text: str) -> str:
    return text.translate(_CONTROL)


@dataclass
class ImportReport:
    """Filled while importing; frozen in spirit once returned (its lists are sorted then)."""

    sources: list[dict] = field(default_factory=list)  # {"source", "kind", "count"}
    items: list[Item] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # plain facts that are neither assumed nor unresolved

    def assume(self, source: str, item: str, message: str) -> None:
        self.items.append(Item(ASSUMED, source, item, message))

    def unresolved(self, source: str, item: str, message: str) -> None:
        self.items.append(Item(UNRESOLVED, source, item, message))

    def note(self, message: str) -> None:
        self.notes.append(message)

    @property
    def clean(self) -> bool:
        """Nothing was assumed and nothing left unresolved."""
        return not self.items

    def counts(self) -> Counter:
        return Counter(i.kind for i in self.items)

    def to_document(self) -> dict:
        counts = self.counts()
        return {
            "version": 1,
            "summary": {**self.summary, "assumed": counts[ASSUMED], "unresolved": counts[UNRESOLVED]},
            "sources": self.sources,
            "items": [i.to_document() for i in self.items],
            "notes": self.notes,
        }

    def render(self) -> str:
        """The text for standard error: a summary, then every item."""
        s = self.summary
        counts = self.counts()
        lines = [f"imported {s.get('nodes', 0)} nodes, {s.get('volumes', 0)} volumes, {s.get('brokers', 0)} brokers, "
                 f"{s.get('topics', 0)} topics ({s.get('partitions', 0)} partitions) from {len(self.sources)} sources"]
        for src in self.sources:
            lines.append(f"  {src['source']}: {src['kind']} ({src['count']})")
        lines += [_one_line(f"note: {n}") for n in self.notes]
        if self.items:
            lines.append(f"{counts[ASSUMED]} assumed, {counts[UNRESOLVED]} unresolved:")
            lines += [f"  {i.line()}" for i in self.items]
        else:
            lines.append("nothing assumed, nothing unresolved")
        return "\n".join(lines) + "\n"
