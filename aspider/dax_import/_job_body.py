"""
A job template that is DAX's whole job, told apart from one aspider can fill: one rule, used by
`aspider import-dax` (which leaves such a template out) and by a run (which refuses one).

VUIIS's `job_template_v3.txt`, and the sites' copies of it, are more than the site's #SBATCH
and `module load` lines around `${job_cmds}`: after it, the template downloads each input of
`$INLIST` with curl from `$XNATHOST`, runs `$MAINCMD` and leaves the outputs in `$DSTDIR` for
`dax upload`. DAX's build sets those variables inside `${job_cmds}`; aspider's `${job_cmds}` is
the whole job (inputs staged before, outputs uploaded by the sweep after) and sets none of them,
so the rest of such a template would find nothing to do and wait on XNAT in its session loop.
"""

from __future__ import annotations

import re

# The variables DAX's build sets in ${job_cmds} for its own job body, and only it.
_DAX_JOB_BODY = re.compile(r"\$\{?(INLIST|OUTLIST|MAINCMD|DSTDIR|XNATHOST|XNATUSER)\b")


def dax_job_problem(text: str) -> str | None:
    """
    Why a job template's text cannot be aspider's, and what to keep of it, when it is DAX's
    whole job (it uses a variable only DAX's build sets); None when aspider can fill it.
    """
    found = _DAX_JOB_BODY.search(text)
    if found is None:
        return None
    return (
        f"it is DAX's own job: it uses ${found[1]}, set only by DAX's ${{job_cmds}} for its "
        "curl downloads, $MAINCMD and $DSTDIR upload, while aspider's ${job_cmds} is the whole "
        "job; keep its site lines (#SBATCH, module load) and ${job_cmds} in a template of "
        "their own"
    )
