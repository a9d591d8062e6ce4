"""
The record of a project's problems and what was said about them: one JSON document.

It lives in XNAT, in the project resource `aspider_notify` (`stores`), so every host that
sweeps the project reads the same record, and a restarted container finds it where it was.
Per problem (by key, `cause:subject`): when it was first seen, when it was told (opened), the
destinations told and those where the rate limit held it back, when it cleared, and the
destinations told that. And the digest: which day's digest was sent, and when.

    {"format": 1,
     "problems": {"failed:P1-x-...": {"project": "P1", "cause": "failed", ...}},
     "digest": {"slot": "2026-12-08", "at": "2026-12-08T07:00:03+01:00", "by": "host:pid"},
     "written": {"at": "...", "by": "host:pid"}}
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT = 1


@dataclass
class Entry:
    """One problem's record. `opened` is "" while it waits out its patience (pending)."""

    project: str
    subject: str
    cause: str
    domain: str
    title: str
    first_seen: str
    opened: str = ""
    told: list[str] = field(default_factory=list)  # destinations told it opened...
    held: list[str] = field(default_factory=list)  # ...of which the rate limit held back
    resolved: str = ""  # when it cleared; "" while it stands
    told_resolved: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.cause}:{self.subject}"

    @property
    def pending(self) -> bool:
        return not self.opened

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        def text(name: str) -> str:
            return str(data.get(name, ""))

        def names(name: str) -> list[str]:
            return [str(x) for x in data.get(name) or []]

        return cls(
            text("project"),
            text("subject"),
            text("cause"),
            text("domain"),
            text("title"),
            text("first_seen"),
            opened=text("opened"),
            told=names("told"),
            held=names("held"),
            resolved=text("resolved"),
            told_resolved=names("told_resolved"),
        )


@dataclass
class DigestRecord:
    slot: str = ""  # the day whose digest went out (YYYY-MM-DD)
    at: str = ""  # when (ISO)
    by: str = ""  # which host and process sent it


@dataclass
class Ledger:
    problems: dict[str, Entry] = field(default_factory=dict)
    digest: DigestRecord = field(default_factory=DigestRecord)
    written_at: str = ""
    written_by: str = ""

    def to_bytes(self) -> bytes:
        data = {
            "format": FORMAT,
            "problems": {key: asdict(entry) for key, entry in sorted(self.problems.items())},
            "digest": asdict(self.digest),
            "written": {"at": self.written_at, "by": self.written_by},
        }
        return json.dumps(data, indent=1, ensure_ascii=False).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Ledger:
        """
        Raises:
            ValueError: not a ledger this version can read.
        """
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a notification record of format 1")
        problems = {
            key: Entry.from_json(entry)
            for key, entry in dict(data.get("problems") or {}).items()
            if isinstance(entry, dict)
        }
        stored = dict(data.get("digest") or {})
        digest = DigestRecord(
            **{k: str(v) for k, v in stored.items() if k in DigestRecord.__dataclass_fields__}
        )
        written = dict(data.get("written") or {})
        return cls(problems, digest, str(written.get("at", "")), str(written.get("by", "")))

    def copy(self) -> Ledger:
        return Ledger.from_bytes(self.to_bytes())
