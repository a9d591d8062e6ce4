"""
A processor's DAX job template (`jobtemplate:` beside its file) on the loopback Slurm: the job
sbatch runs is the template, with the job's own command in `${job_cmds}`, and it completes.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from aspider.run.backends import SchedulerBackend, job_dir
from aspider.run.sweep import sweep_until_done
from tests.engine.conftest import shell_processor
from xnat_client import ResourceRef, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

SCRIPT = """|
    echo "$SITE_MODULE" > "$OUTDIR/out.txt"
"""
# A site's lines: a module it loads (here an exported variable naming the job it ran for).
TEMPLATE = """\
#!/bin/bash
#SBATCH --mem=${job_memory}
export SITE_MODULE="fsl-6.0 for ${job_name}"
${job_cmds}
"""


async def test_processor_template_is_the_job_slurm_runs(
    server: XnatServer, xnat: XnatClient, slurm_backend: SchedulerBackend, tmp_path: Path
) -> None:
    """
    The template's site line ran, filled for this job, and its export reached the command,
    whose output was uploaded (the job directory itself is gone once the task is COMPLETE).
    """
    (tmp_path / "site_template.txt").write_text(TEMPLATE)
    proc = shell_processor(tmp_path, "templated", SCRIPT, top="jobtemplate: site_template.txt\n")
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=8)
    with anyio.fail_after(180):
        await sweep_until_done(xnat, slurm_backend, "P1", [proc], interval=1, max_sweeps=180)
    (a,) = [a for s in (await xnat.project_snapshot("P1")).sessions for a in s.assessors]
    assert a.procstatus == "COMPLETE", a.note
    name = job_dir(slurm_backend, a.label).name
    stats = ResourceRef.assessor_output(a.session_id, a.id, "STATS")
    await xnat.download_to_path(stats, "out.txt", tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_text() == f"fsl-6.0 for {name}\n"
