"""
DAX and aspider side by side, end to end: a project from nothing to every task COMPLETE, on the
same XNAT-compatible server and the same loopback Slurm (tests/cluster/up), with the same two
processors (DAX v3 YAML: a statistics task per session, and a session report that takes its
output), whose container is a stand-in for singularity that runs the command on the node.

    .venv/bin/python -m benchmarks.dax_e2e_bench [--sessions 100] [--latency 0.02] [--dax PATH]

DAX 2.x runs as its documentation runs it, one command after another: `dax build` (create the
assessors, write the job scripts into its DISKQ), `dax launch` (sbatch them), `dax update` (ask
Slurm about each job), `dax upload` (from its upload directory into XNAT), round after round
until every task is COMPLETE, a second apart when a round changed nothing. Its settings name
no password: its ~/.netrc (HOME is a temporary directory) holds the login, as `dax setup`
writes it, and its jobs fetch their inputs from XNAT with curl and that ~/.netrc, the way a v3
job template does. The template here is this benchmark's own (DAX publishes none): it reads
`INLIST`/`OUTLIST`/`MAINCMD` as processors_v3 writes them into `${job_cmds}`. It stages FILE
inputs with one request each, which is all these processors have; a DIR input would be fetched
as `<resource>/files?format=zip&structure=simplified`, which the server must then serve.

aspider runs once, `aspider run BENCH --wait --interval 1` with `executor: slurm` on this
machine (sbatch where DAX runs it, so both pay the same for a scheduler command).

Reported for each: wall time, XNAT requests (the server's own count, every job's download
included), requests per task, and the scheduler commands it ran (sbatch, squeue, sacct,
scancel, counted by wrappers first on PATH). The server runs in its own process with a latency
on every answer (benchmarks._sweep_serve). DAX comes from tests/tools/client-venvs
(`.venvs/dax`), the cluster from tests/cluster/up; neither is installed here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks._sweep_serve import PROJECT, USER
from benchmarks.sweep_bench import Server

REPO = Path(__file__).resolve().parents[1]
SCHEDULER_COMMANDS = ("sbatch", "squeue", "sacct", "scancel")
PROCTYPES = ("imgstats_v1", "sessreport_v1")

# The containers' work, as commands the stand-in runs with /INPUTS and /OUTPUTS bound.
PROCESSORS = {
    "imgstats_v1.0.0.yaml": """\
---
procyamlversion: 3.0.0-dev.0
containers:
  - {name: imgstats, path: imgstats_v1.0.0.sif, source: none}
requirements: {walltime: '0-00:05', memory: 256M}
inputs:
  xnat:
    scans:
      - name: scan_t1
        types: T1w
        resources:
          - {resource: NIFTI, fmatch: '*.nii.gz', fdest: image.nii.gz}
outputs:
  - stats: stats.txt
command:
  type: singularity_exec
  container: imgstats
  args: sh -c 'gzip -dc /INPUTS/image.nii.gz | wc -c > /OUTPUTS/stats.txt'
""",
    "sessreport_v1.0.0.yaml": """\
---
procyamlversion: 3.0.0-dev.0
containers:
  - {name: sessreport, path: sessreport_v1.0.0.sif, source: none}
requirements: {walltime: '0-00:05', memory: 256M}
inputs:
  xnat:
    assessors:
      - name: assr_stats
        proctypes: imgstats_v1
        resources:
          - {resource: STATS, fmatch: stats.txt, fdest: t1_stats.txt}
outputs:
  - {path: report.txt, type: FILE, resource: REPORT}
command:
  type: singularity_exec
  container: sessreport
  args: sh -c 'cat /INPUTS/t1_stats.txt > /OUTPUTS/report.txt'
""",
}

# A stand-in for `singularity exec|run [options] IMAGE COMMAND...`: it runs COMMAND on the node,
# each `--bind SRC:DST` applied to the arguments (DST read as SRC); the image is not opened.
STAND_IN = """\
#!/usr/bin/env python3
import os, re, sys
valued = {"--bind", "-B", "--home", "-H", "--pwd", "--env", "--workdir", "-W", "--overlay"}
args, binds = sys.argv[2:], []
while args and args[0].startswith("-"):
    name, eq, value = args.pop(0).partition("=")
    if name in valued and not eq:
        value = args.pop(0)
    if name in ("--bind", "-B"):
        binds += [tuple(b.split(":")[:2]) for b in value.split(",")]
args.pop(0)  # the image
if not args:
    sys.exit("singularity stand-in: no command to run (it runs commands, not runscripts)")
source = {target: src for src, target in binds}
# A bound path where a path starts in an argument, each replaced once (one pass).
where = "|".join(re.escape(t) for t in sorted(source, key=len, reverse=True)) or "(?!)"
bound = re.compile(f"(?<![\\\\w/.-])(?:{where})(?![\\\\w.-])")
os.execvp(args[0], [bound.sub(lambda m: source[m.group()], a) for a in args])
"""

# The DAX v3 job template: ${job_cmds} sets INLIST, OUTLIST, JOBDIR, INDIR, OUTDIR, DSTDIR
# and MAINCMD; the rest fetches, runs, and leaves the outputs where `dax upload` looks.
JOB_TEMPLATE_V3 = """\
#!/bin/bash
#SBATCH --mail-type=${job_email_options}
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=${job_ppn}
#SBATCH --time=${job_walltime}
#SBATCH --mem=${job_memory}
#SBATCH --output=${job_output_file}
${job_cmds}
export JOBDIR INDIR OUTDIR
mkdir -p "$INDIR" "$OUTDIR" || exit 1
for entry in "${INLIST[@]}"; do
    IFS=, read -r fdest ftype fpath ddest <<<"$entry"
    mkdir -p "$INDIR/$ddest" || exit 1
    if [ "$ftype" = FILE ]; then
        curl -fsS --netrc -o "$INDIR/$ddest/$fdest" "$fpath" || exit 1
    else
        curl -fsS --netrc -o "$JOBDIR/in.zip" "$fpath?format=zip&structure=simplified" &&
            unzip -q -o -d "$INDIR/$ddest/$fdest" "$JOBDIR/in.zip" || exit 1
    fi
done
sh -c "$MAINCMD" || exit 1
for entry in "${OUTLIST[@]}"; do
    IFS=, read -r path kind resource <<<"$entry"
    mkdir -p "$DSTDIR/$resource" && cp -r "$OUTDIR/$path" "$DSTDIR/$resource/" || exit 1
done
touch "$DSTDIR/READY_TO_UPLOAD.txt"
rm -rf "$JOBDIR"
"""


@dataclass
class Measured:
    tool: str
    seconds: float = 0.0
    requests: int = 0
    complete: int = 0
    scheduler: Counter[str] = field(default_factory=Counter)
    rounds: int = 0

    def row(self, tasks: int) -> str:
        commands = sum(self.scheduler.values())
        detail = ", ".join(f"{c} {self.scheduler[c]}" for c in SCHEDULER_COMMANDS)
        per_task = self.requests / max(1, tasks)
        return (
            f"| {self.tool} | {self.seconds:.1f} | {self.requests} | {per_task:.1f} | "
            f"{commands} ({detail}) | {self.complete}/{tasks} |"
        )


def write_tools(root: Path, slurm_conf: str) -> dict[str, str]:
    """Counting wrappers for the scheduler's commands and the singularity stand-in; the env."""
    bin_dir = root / "bin"
    bin_dir.mkdir()
    for command in SCHEDULER_COMMANDS:
        real = shutil.which(command)
        if real is None:
            raise SystemExit(f"{command} is not installed: run `sudo tests/cluster/up` first")
        wrapper = bin_dir / command
        wrapper.write_text(
            f'#!/bin/sh\necho {command} >> "$BENCH_SCHEDULER_LOG"\nexec {real} "$@"\n'
        )
        wrapper.chmod(0o755)
    stand_in = bin_dir / "singularity"
    stand_in.write_text(STAND_IN)
    stand_in.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASPIDER_")}
    env.update(PATH=f"{bin_dir}:{env['PATH']}", SLURM_CONF=slurm_conf)
    return env


def write_processors(root: Path) -> Path:
    folder = root / "processors"
    folder.mkdir()
    for name, text in PROCESSORS.items():
        (folder / name).write_text(text)
    return folder


def scheduler_log(root: Path, tool: str) -> Path:
    path = root / f"scheduler-{tool}.log"
    path.touch()
    return path


def completed(server: Server) -> int:
    """Tasks of the two processors that are COMPLETE, read from the server's store."""
    statuses = server.ask("statuses")
    return sum(n for key, n in statuses.items() if key in {f"{p} COMPLETE" for p in PROCTYPES})


# -- DAX ---------------------------------------------------------------------------------------


def dax_setup(root: Path, url: str, processors: Path) -> Path:
    """DAX's home (~/.netrc), its job templates and its settings; the settings path."""
    home = root / "dax-home"
    home.mkdir()
    netrc = home / ".netrc"
    netrc.write_text(f"machine 127.0.0.1\nlogin {USER[0]}\npassword {USER[1]}\n")
    netrc.chmod(0o600)
    (root / "job_template.txt").write_text(JOB_TEMPLATE_V3)
    (root / "job_template_v3.txt").write_text(JOB_TEMPLATE_V3)  # what a v3 processor reads
    settings = root / "dax-settings.yaml"
    settings.write_text(
        f"---\nprocessorlib: {processors}\nresdir: {root / 'dax-res'}\n"
        f"jobtemplate: {root / 'job_template.txt'}\nsingularity_imagedir: {root / 'images'}\n"
        f"attrs:\n  queue_limit: 10000\n  queue_limit_pending: 10000\n"
        f"  limit_pendinguploads: 10000\n  job_email_options: NONE\n  xnat_host: {url}\n"
        f"  root_job_dir: {root / 'dax-jobs'}\n"
        "yamlprocessors:\n"
        "  - {name: imgstats, filepath: imgstats_v1.0.0.yaml}\n"
        "  - {name: sessreport, filepath: sessreport_v1.0.0.yaml}\n"
        f"projects:\n  - {{project: {PROJECT}, yamlprocessors: 'imgstats, sessreport'}}\n"
    )
    (root / "dax-jobs").mkdir()
    for folder in ("OUTLOG", "PBS", "PDF"):  # what `dax upload` lists, made as its users do
        (root / "dax-res" / folder).mkdir(parents=True)
    return settings


def dax_round(dax: str, settings: Path, url: str, env: dict[str, str], n: int) -> None:
    """build, launch, update, upload: one round, each DAX command as its own process."""
    root = settings.parent
    resdir = str(root / "dax-res")
    project = ["--project", PROJECT]
    steps = {
        "build": ["build", str(settings), *project],
        "launch": ["launch", str(settings), *project],
        "update": ["update", str(settings), *project],
        "upload": ["upload", "--host", url, "-p", PROJECT, "--resdir", resdir, "--nolock"],
    }
    for step, argv in steps.items():
        log = root / f"dax-{n:03d}-{step}.log"
        done = subprocess.run(
            [dax, *argv, "--logfile", str(log)],
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        said = log.read_text() if log.exists() else ""
        if done.returncode != 0 or "CRITICAL" in said or "Traceback" in said:
            raise SystemExit(f"dax {step} failed:\n{said[-3000:]}{done.stderr[-3000:]}")


def run_dax(
    args: argparse.Namespace, root: Path, env: dict[str, str], processors: Path
) -> Measured:
    server = Server("--sessions", str(args.sessions), "--latency", str(args.latency))
    measured = Measured("DAX 2.x")
    try:
        settings = dax_setup(root, server.url, processors)
        log = scheduler_log(root, "dax")
        dax_env = {**env, "HOME": str(root / "dax-home"), "XNAT_HOST": server.url}
        dax_env["BENCH_SCHEDULER_LOG"] = str(log)
        server.ask("reset")
        started = time.perf_counter()
        deadline = started + args.timeout
        while True:
            measured.rounds += 1
            before = completed(server)
            dax_round(args.dax, settings, server.url, dax_env, measured.rounds)
            measured.complete = completed(server)
            if measured.complete >= len(PROCTYPES) * args.sessions:
                break
            if time.perf_counter() > deadline:
                raise SystemExit(f"DAX did not finish in {args.timeout:.0f} s")
            if measured.complete == before:
                time.sleep(args.interval)  # its jobs are still running
        measured.seconds = time.perf_counter() - started
        measured.requests = sum(server.ask("count")["kinds"].values())
        measured.scheduler = Counter(log.read_text().split())
    finally:
        server.stop()
    return measured


# -- aspider -----------------------------------------------------------------------------------


def run_aspider(
    args: argparse.Namespace, root: Path, env: dict[str, str], processors: Path
) -> Measured:
    server = Server("--sessions", str(args.sessions), "--latency", str(args.latency))
    measured = Measured("aspider")
    try:
        settings = root / "aspider.yaml"
        cluster = {
            "executor": "slurm",
            "work_root": str(root / "aspider-work"),
            "arrays": not args.no_arrays,
        }
        settings.write_text(
            json.dumps(
                {
                    "processor_paths": [str(processors)],
                    "projects": {PROJECT: {}},
                    "xnat": {"url": server.url, "user": USER[0]},
                    "cluster": {**cluster, "container_dir": str(root / "images")},
                }
            )
        )
        log = scheduler_log(root, "aspider")
        run_env = {**env, "ASPIDER_XNAT__PASSWORD": USER[1], "BENCH_SCHEDULER_LOG": str(log)}
        aspider = str(Path(sys.executable).parent / "aspider")
        argv = [aspider, "run", PROJECT, "--settings", str(settings), "--wait"]
        argv += ["--interval", str(args.interval), "--log-format", "json"]
        server.ask("reset")
        started = time.perf_counter()
        done = subprocess.run(
            argv, env=run_env, capture_output=True, text=True, timeout=args.timeout, check=False
        )
        measured.seconds = time.perf_counter() - started
        (root / "aspider.log").write_text(done.stderr)  # its JSON log, kept with --keep
        if done.returncode != 0:
            raise SystemExit(f"aspider run failed ({done.returncode}):\n{done.stderr[-3000:]}")
        measured.requests = sum(server.ask("count")["kinds"].values())
        measured.complete = completed(server)
        measured.scheduler = Counter(log.read_text().split())
        measured.rounds = 1
    finally:
        server.stop()
    return measured


def cluster_slurm_conf(profile: Path) -> str:
    if not profile.exists():
        raise SystemExit(f"no loopback cluster ({profile}): run `sudo tests/cluster/up` first")
    return str(json.loads(profile.read_text())["slurm_conf"])


def main() -> None:
    parser = argparse.ArgumentParser(description="DAX and aspider end to end on Slurm")
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.020)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between rounds")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--dax", default=str(REPO / ".venvs" / "dax" / "bin" / "dax"))
    parser.add_argument("--cluster-profile", type=Path, default=REPO / ".cluster" / "profile.json")
    parser.add_argument("--only", choices=("dax", "aspider"), default=None)
    parser.add_argument("--keep", type=Path, default=None, help="work here, and keep it (logs)")
    parser.add_argument(
        "--no-arrays", action="store_true", help="aspider submits each job on its own"
    )
    args = parser.parse_args()
    if args.only != "aspider" and not Path(args.dax).exists():
        raise SystemExit(f"no dax at {args.dax}: run tests/tools/client-venvs (or pass --dax)")
    slurm_conf = cluster_slurm_conf(args.cluster_profile)
    tasks = len(PROCTYPES) * args.sessions
    results = []
    with tempfile.TemporaryDirectory(prefix="dax-e2e-bench-") as tmp:
        root = Path(tmp) if args.keep is None else args.keep
        root.mkdir(parents=True, exist_ok=True)
        env = write_tools(root, slurm_conf)
        processors = write_processors(root)
        if args.only != "aspider":
            (root / "dax").mkdir()
            results.append(run_dax(args, root / "dax", env, processors))
        if args.only != "dax":
            (root / "aspider").mkdir()
            results.append(run_aspider(args, root / "aspider", env, processors))
    print(
        f"{args.sessions} sessions x {len(PROCTYPES)} processors = {tasks} tasks, "
        f"latency {args.latency * 1000:.0f} ms, loopback Slurm"
    )
    print("| tool | wall s | XNAT requests | requests/task | scheduler commands | COMPLETE |")
    print("|---|---|---|---|---|---|")
    for measured in results:
        print(measured.row(tasks))
    if len(results) == 2:
        dax, ours = results
        print(
            f"aspider {dax.seconds / max(ours.seconds, 1e-9):.1f}x faster, "
            f"{ours.requests / max(dax.requests, 1):.2f}x DAX's requests per task; "
            f"DAX took {dax.rounds} rounds"
        )


if __name__ == "__main__":
    main()
