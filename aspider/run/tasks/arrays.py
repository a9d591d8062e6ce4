"""
A sweep's submissions as job arrays: one held array per processor and request, recorded
element by element, then released with one command.

The sweep says up front which of its planned submissions may share an array (`expected`: the
same processor, and the same request: memory, walltime, cores, queue, account, template; a
retry asking more, or a tuned request, is a request of its own). Each submission stages its
inputs as a single one does, then joins its array instead of submitting. An array goes to the
scheduler when every submission it expects has joined it or gone another way (its inputs were
missing, it adopted a held job, its session failed), or when it is full (`array_max`); so no
session waits for another, and the sessions' workers never block on an array.

Then, for the whole array: one held submission (each element's marker in its job directory,
as a held single job's), every element recorded in XNAT as its task's job (`123_7`), and one
release of the whole array, or of the recorded elements alone when some record failed. Crash
safety is a single job's, element by element: an element never recorded is adopted by its
task's next submission, one recorded and still held is released by the next sweep
(`run.tasks.held_jobs`). An array of one is a single job. A scheduler that refuses an array
(a site's `MaxArraySize`, say) gets its jobs one by one.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Self

import anyio
from anyio.abc import TaskGroup

from aspider._exceptions import ConfigError
from aspider.plan import Plan, SessionPlan, Submit, Task
from aspider.run.backends import ArrayPolicy, JobBackend
from aspider.run.tasks.job_templates import job_template
from aspider.run.tasks.submission import JobOptions, job_spec
from pbs import (
    ARRAYS_DIR,
    ArraySpec,
    JobSpec,
    JobTemplate,
    PbsError,
    SchedulerUnavailable,
    SubmitFailed,
    job_name,
)
from xnat_client import XnatError

if TYPE_CHECKING:
    from aspider.run.tasks.submission import Submission

log = logging.getLogger("aspider.run.tasks.arrays")

#: What a session's failure in an array's steps is reported as: (session label, what).
SessionError = tuple[str, str]


def array_key(task: Task, backend: JobBackend, options: JobOptions) -> Hashable | None:
    """
    What the task's job must share with others to go in one array: its processor and its
    request. None when its job cannot be described (its submission says why, alone).
    """
    try:
        spec = job_spec(task, backend, options)
        template = job_template(task, backend.name)
    except (PbsError, ConfigError, ValueError):
        return None
    request = (spec.walltime, spec.memory_mb, spec.cpus, spec.queue, spec.account, spec.qos)
    return (task.proctype, request, template.text if template is not None else None)


def expected_submissions(
    plan: Plan, backend: JobBackend, options: JobOptions
) -> dict[str, Hashable]:
    """
    label -> array key of every submission the plan makes that may share an array; none
    when the backend sends every job alone.
    """
    expected: dict[str, Hashable] = {}
    if backend.arrays is None:
        return expected
    for action in plan.actions():
        if isinstance(action, Submit):
            key = array_key(action.task, backend, options)
            if key is not None:
                expected[action.task.label] = key
    return expected


@dataclass
class _Member:
    submission: Submission
    spec: JobSpec
    template: JobTemplate | None


@dataclass
class _Group:
    waiting: set[str] = field(default_factory=set)  # labels expected, not yet joined or gone
    members: list[_Member] = field(default_factory=list)


class SubmissionArrays:
    """
    The sweep's arrays, as an async context: it opens the task group the arrays are submitted
    in, and on leaving sends what is left and waits for every array's steps.
    """

    @classmethod
    def for_plan(cls, backend: JobBackend, plan: Plan, options: JobOptions) -> SubmissionArrays:
        """The arrays of a sweep's plan (none where the backend sends every job alone)."""
        policy = backend.arrays or ArrayPolicy()
        return cls(backend, policy, expected_submissions(plan, backend, options))

    def __init__(
        self, backend: JobBackend, policy: ArrayPolicy, expected: Mapping[str, Hashable]
    ) -> None:
        self.backend = backend
        self.policy = policy
        self._key = dict(expected)
        self._groups: dict[Hashable, _Group] = defaultdict(_Group)
        for label, key in expected.items():
            self._groups[key].waiting.add(label)
        self._tg: TaskGroup | None = None
        self.errors: list[SessionError] = []

    async def __aenter__(self) -> Self:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        if exc is None:
            self.leave(list(self._key))
        assert self._tg is not None
        return await self._tg.__aexit__(exc_type, exc, tb)

    def expects(self, label: str) -> bool:
        """Whether the task's submission is to join an array."""
        return label in self._key

    def join(self, submission: Submission, spec: JobSpec, template: JobTemplate | None) -> None:
        """The task's staged, held job joins its array (sent once complete or full)."""
        key = self._key.pop(submission.task.label)
        group = self._groups[key]
        group.waiting.discard(submission.task.label)
        group.members.append(_Member(submission, spec, template))
        if len(group.members) >= self.policy.max_elements or not group.waiting:
            self._send(key)

    def leave(self, labels: str | Iterable[str]) -> None:
        """These tasks' submissions will not join (or have): their arrays wait no longer."""
        for label in [labels] if isinstance(labels, str) else labels:
            key = self._key.pop(label, None)
            if key is not None:
                self._groups[key].waiting.discard(label)
                if not self._groups[key].waiting:
                    self._send(key)

    def session_done(self, plan: SessionPlan) -> None:
        """The session's submissions are all made (or never will be, if it failed)."""
        self.leave([a.task.label for a in plan.actions if isinstance(a, Submit)])

    def _send(self, key: Hashable) -> None:
        group = self._groups[key]
        members, group.members = group.members, []
        if members:
            assert self._tg is not None, "used outside its `async with`"
            self._tg.start_soon(self._submit, members)

    async def _submit(self, members: list[_Member]) -> None:
        if len(members) == 1:
            await self._guarded(members[0], members[0].submission.alone())
            return
        first = members[0].submission.task
        name = job_name(f"{first.project}-x-{first.proctype}-x-{uuid.uuid4().hex[:8]}")
        try:
            array = ArraySpec(
                name=name,
                array_dir=self.backend.work_root / ARRAYS_DIR / name,
                elements=tuple(m.spec for m in members),
                parallel=self.policy.parallel,
                hold=True,
            )
        except ValueError as exc:  # not one request after all: each job goes alone
            log.warning("no array for %d %s jobs (%s): each goes alone", len(members), name, exc)
            await self._each(members, lambda m: m.submission.alone())
            return
        try:
            ids = await self.backend.submit_array(array, members[0].template)
        except PbsError as exc:
            await self._not_sent(members, exc)
            return
        log.info("array %s: %d jobs of %s held, recording them", ids[0], len(ids), first.proctype)
        await self._record_and_release(members, ids)

    async def _not_sent(self, members: list[_Member], error: PbsError) -> None:
        """An array the scheduler refused goes job by job; any other failure, as a single's."""
        if isinstance(error, SubmitFailed) and not isinstance(error, SchedulerUnavailable):
            log.warning(
                "the scheduler refused an array (%s): its %d jobs go alone", error, len(members)
            )
            await self._each(members, lambda m: m.submission.alone())
        else:
            await self._each(members, lambda m: m.submission.not_submitted(error))

    async def _record_and_release(self, members: list[_Member], ids: list[str]) -> None:
        recorded: dict[str, tuple[_Member, str]] = {}

        async def record(member: _Member, job_id: str) -> None:
            if await member.submission.recorded(job_id):
                recorded[job_name(member.submission.task.label)] = (member, job_id)

        async with anyio.create_task_group() as tg:
            for member, job_id in zip(members, ids, strict=True):
                tg.start_soon(self._guarded, member, record(member, job_id))
        jobs = {name: job_id for name, (_, job_id) in recorded.items()}
        try:
            if len(recorded) == len(members):
                await self.backend.release_arrays(jobs)
            elif jobs:  # the unrecorded ones stay held, for their tasks to adopt
                await self.backend.release(jobs)
        except PbsError as exc:  # recorded and held: the next sweep lets them go
            log.warning("array of %s recorded but not released yet (%s)", ids[0], exc)
        for member, job_id in recorded.values():
            member.submission.submitted(job_id)

    async def _each(
        self, members: list[_Member], step: Callable[[_Member], Awaitable[None]]
    ) -> None:
        async with anyio.create_task_group() as tg:
            for member in members:
                tg.start_soon(self._guarded, member, step(member))

    async def _guarded(self, member: _Member, steps: Awaitable[None]) -> None:
        """A member's steps; a failure is its session's, reported, never the sweep's."""
        task = member.submission.task
        try:
            await steps
        except (XnatError, PbsError, OSError, ValueError) as exc:
            log.error("session %s: %s", task.session_label, exc)
            self.errors.append((task.session_label, str(exc)))
