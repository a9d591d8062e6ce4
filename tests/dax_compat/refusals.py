"""
Which processor files DAX 2.x accepts and `aspider processors --validate` refuses, and why.

    .venv/bin/python -m tests.dax_compat.refusals [--processors DIR]... [--out FILE]

Each `*.yaml` under the given folders (default: `processors/` and `legacy/` of
$ASPIDER_DAX_PROCESSORS, of `../shared/dax-processors` beside the checkout, or of
`/work/notes/dax-processors`, the first that exists) is loaded by DAX's own loader in DAX's
own virtual environment (`tests/tools/client-venvs` creates it; `_dax_load.py` runs inside it) and
validated by this checkout's `aspider processors --validate`, one file at a time so every error
is attributed to its file. The report is Markdown: the refusals grouped by cause, then one row
per file. It only reads the files; nothing talks to XNAT.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tests.dax_compat._venv import dax_python

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# Where a checkout finds the collected public files: $ASPIDER_DAX_PROCESSORS, the shared folder
# beside the checkout, or the notes folder of this machine; the first that exists.
_ROOTS = [
    Path(os.environ.get("ASPIDER_DAX_PROCESSORS", "/nonexistent")),
    REPO.parent / "shared" / "dax-processors",
    Path("/work/notes/dax-processors"),
]
DEFAULT_DIRS = next(
    ([r / "processors", r / "legacy"] for r in _ROOTS if (r / "processors").is_dir()), []
)

# aspider's messages, mapped to the DAX feature they stand for. The first match names the cause.
CAUSES: list[tuple[str, str]] = [
    (r"a DAX v1/v2 processor|a DAX v[12] processor", "legacy DAX v1/v2 file (said on line 1)"),
    (
        r"assessor attribute needs `ref`",
        "attrs: assessor attr without `ref` (DAX: the new assessor)",
    ),
    (r"assessor has no attribute 'project'", "attrs: `attr: project` on an assessor"),
    (r"assessor has no attribute 'subject_label'", "attrs: `attr: subject_label` on an assessor"),
    (r"scan has no attribute 'ID'", "attrs: `attr: ID` on a scan"),
    (r"has no attribute", "attrs: another XNAT attribute name"),
    (r"fcount: unknown key", "resources[].fcount"),
    (r"sessions\[\] is for subject or project", "subject level inferred from inputs.xnat.sessions"),
    (r"petscans", "inputs.xnat.petscans"),
    (r"tracer", "sessions[].tracer"),
    (r"inputs.vars: Input should be a valid dictionary", "inputs.vars not a mapping"),
    (r"moreauto", "legacy moreauto (v2) file"),
    (r"invalid YAML", "not valid YAML"),
]


@dataclass
class Row:
    path: str
    dax: dict[str, str] = field(default_factory=dict)
    aspider_ok: bool = False
    aspider_errors: list[str] = field(default_factory=list)

    @property
    def dax_accepts(self) -> bool:
        if self.dax.get("kind") == "project":
            return self.dax.get("validate") == "ok"
        return self.dax.get("load") == "ok"

    def causes(self) -> list[str]:
        found = [_cause(e, self.dax) for e in self.aspider_errors]
        return sorted(set(found))


def _cause(error: str, dax: dict[str, str]) -> str:
    if "file name must be" in error:
        if dax.get("kind") == "project":
            return "project processor named processor.yaml (inputs.xnat.subjects)"
        if dax.get("class") in ("MoreAutoProcessor", "AutoProcessor"):
            return "legacy v1/v2 file name (`*_processor.yaml`)"
        return "file name"
    for pattern, cause in CAUSES:
        if re.search(pattern, error):
            return cause
    message = re.sub(r"^.*?:\d+: ", "", error)
    return re.sub(r"\[\d+\]", "[]", message)


def dax_results(paths: list[Path]) -> dict[str, dict[str, str]]:
    """DAX's verdict per file, from `_dax_load.py` inside DAX's venv (created if missing)."""
    python = dax_python()
    with tempfile.TemporaryDirectory() as home:  # DAX reads and writes settings under HOME
        done = subprocess.run(
            [str(python), str(HERE / "_dax_load.py"), *map(str, paths)],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "HOME": home},
        )
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return {r["path"]: r for r in rows}


def aspider_result(path: Path) -> tuple[bool, list[str]]:
    aspider = Path(sys.executable).with_name("aspider")
    done = subprocess.run(
        [str(aspider), "processors", "--validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return done.returncode == 0, [] if done.returncode == 0 else lines


def collect(dirs: list[Path]) -> list[Row]:
    paths = sorted(p for d in dirs for p in d.rglob("*.y*ml"))
    verdicts = dax_results(paths)
    rows = []
    for path in paths:
        ok, errors = aspider_result(path)
        rows.append(Row(str(path), verdicts.get(str(path), {}), ok, errors))
    return rows


def _short(row: Row, roots: list[Path]) -> str:
    for root in roots:
        if row.path.startswith(str(root)):
            return f"{root.name}/{Path(row.path).relative_to(root)}"
    return row.path


def _dax_cell(row: Row) -> str:
    if row.dax.get("kind") == "project":
        return "project (schema " + ("ok" if row.dax_accepts else "refused") + ")"
    if row.dax_accepts:
        return f"{row.dax.get('class')} ({row.dax.get('kind')})"
    return "refuses: " + row.dax.get("load", "?").splitlines()[0][:80]


def report(rows: list[Row], roots: list[Path]) -> str:
    accepted = [r for r in rows if r.dax_accepts]
    refused = [r for r in accepted if not r.aspider_ok]
    lines = [
        (
            f"{len(rows)} files; DAX 2.21 accepts {len(accepted)}; aspider accepts "
            f"{sum(r.aspider_ok for r in rows)}; DAX accepts and aspider refuses {len(refused)}."
        ),
        "",
        "## DAX accepts, aspider refuses: by cause",
        "",
        "| cause | files | one of aspider's errors |",
        "| --- | --- | --- |",
    ]
    by_cause: dict[str, list[Row]] = defaultdict(list)
    for row in refused:
        for cause in row.causes():
            by_cause[cause].append(row)
    for cause, members in sorted(by_cause.items(), key=lambda kv: -len(kv[1])):
        example = next(e for e in members[0].aspider_errors if _cause(e, members[0].dax) == cause)
        example = re.sub(r"^\S*/", "", example).replace("|", "\\|")
        lines.append(f"| {cause} | {len(members)} | `{example}` |")
    lines += [
        "",
        "## Every file",
        "",
        "| file | DAX 2.21 | aspider | causes |",
        "| --- | --- | --- | --- |",
    ]
    for row in rows:
        verdict = "accepts" if row.aspider_ok else "refuses"
        causes = "; ".join(row.causes()).replace("|", "\\|")
        lines.append(f"| `{_short(row, roots)}` | {_dax_cell(row)} | {verdict} | {causes} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processors", type=Path, action="append", help="folder of files")
    parser.add_argument("--out", type=Path, help="write the Markdown report here")
    args = parser.parse_args()
    dirs = [d.resolve() for d in (args.processors or DEFAULT_DIRS) if d.exists()]
    if not dirs:
        raise SystemExit("no processor folder found; pass --processors DIR")
    text = report(collect(dirs), dirs)
    if args.out:
        args.out.write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
