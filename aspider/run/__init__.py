"""
The engine: one sweep of a project (lease, snapshot, poll, plan, execute), and a run of many.

Everything here does I/O: XNAT through `xnat_client`, the cluster or local processes through
`pbs`, behind `backends.JobBackend`. It stands on the pure planner (`aspider.plan`) and the
processor definitions (`aspider.processors`) and may import `aspider.settings`; the demo, the
service and the CLI stand on it, and import only what this `__all__` names (an import-linter
contract keeps them out of the folders below). Failures are recorded on the affected assessor,
never raised past a session.

The folders, by concern: `sweep` (one project, once) and `wiring` (the XNAT client and the job
backend, built from the settings) at the top; `commands/` (a run of many projects, its dry run,
a rerun, a trial); `tasks/` (what a sweep does to one task: submission, staging, outputs, finalize);
`records/` (what it writes to XNAT and remembers: assessor writes, the ledger, workflow history,
the action log, the settled memo); `lease/` (one sweep at a time per project); `backends/`
(where jobs run).
"""

from aspider.run.backends import JobBackend
from aspider.run.commands.preview import (
    SweepPreview,
    observe_followed_jobs,
    preview,
    preview_sweep,
)
from aspider.run.commands.rerun import RerunResult, read_rerun, send_back
from aspider.run.commands.runner import (
    SUMMARY_COLUMNS,
    RunProgress,
    RunResult,
    execute_run,
    for_project,
    plan_limits,
    run_ending,
    summary_rows,
    sweep_options,
)
from aspider.run.commands.trial import ProcessorTrial, TrialTask, try_processor
from aspider.run.commands.trial_ends import TrialOutput
from aspider.run.commands.tune import read_usage
from aspider.run.lease.holder import project_lease
from aspider.run.lease.in_xnat import XnatLeaseStore
from aspider.run.records.run_queue import RunQueue
from aspider.run.records.workflow_history import (
    job_directory_of,
    log_tail_of,
    read_history,
    reason_of,
)
from aspider.run.sweep import (
    SweepOptions,
    SweepReport,
    jobs_to_observe,
    sweep_project,
    unknown_sessions,
)
from aspider.run.tasks.job_templates import run_notices
from aspider.run.wiring import NETWORK, Wiring, open_backend, read_snapshots

__all__ = [
    "NETWORK",
    "SUMMARY_COLUMNS",
    "JobBackend",
    "ProcessorTrial",
    "RerunResult",
    "RunProgress",
    "RunQueue",
    "RunResult",
    "SweepOptions",
    "SweepPreview",
    "SweepReport",
    "TrialOutput",
    "TrialTask",
    "Wiring",
    "XnatLeaseStore",
    "execute_run",
    "for_project",
    "job_directory_of",
    "jobs_to_observe",
    "log_tail_of",
    "observe_followed_jobs",
    "open_backend",
    "plan_limits",
    "preview",
    "preview_sweep",
    "project_lease",
    "read_history",
    "read_rerun",
    "read_snapshots",
    "read_usage",
    "reason_of",
    "run_ending",
    "run_notices",
    "send_back",
    "summary_rows",
    "sweep_options",
    "sweep_project",
    "try_processor",
    "unknown_sessions",
]
