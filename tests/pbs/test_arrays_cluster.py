"""
Job arrays on the real loopback cluster, over both transports: Slurm's `sbatch --array` held,
each element marked, followed, released and cancelled by its own id; and the Slurm wrappers'
`qsub -t`, as far as they go: submitted held and released whole, each element in its own job
directory. There they stop (which is why the `pbs` executor sends every job alone): their qstat
lists no element (`qstat -f 123_1` finds nothing, `qstat -t` is an unknown option), and their
qrls and qdel read `123_1` as the number 123 (Perl), so they release or delete the whole array.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from pbs import (
    ARRAYS_DIR,
    ArraySpec,
    BatchClient,
    EndCause,
    JobSpec,
    JobState,
    PbsClient,
    SlurmClient,
)

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


def _array(root: Path, name: str, commands: list[str]) -> ArraySpec:
    elements = tuple(
        JobSpec(
            name=f"{name}{i}",
            job_dir=root / f"{name}{i}",
            command=command,
            memory_mb=100,
            hold=True,
        )
        for i, command in enumerate(commands)
    )
    return ArraySpec(name=name, array_dir=root / ARRAYS_DIR / name, elements=elements, hold=True)


async def _exit_codes(client: BatchClient, root: Path, names: list[str]) -> dict[str, int | None]:
    """Each job directory's exit code, once every job has one (or the guard fires)."""
    with anyio.fail_after(90):
        while True:
            states = await client.read_states(root, names)
            if all(s.exit_code is not None for s in states.values()):
                return {name: s.exit_code for name, s in states.items()}
            await anyio.sleep(0.5)


async def test_a_held_slurm_array_marks_each_element_and_waits(
    slurm: SlurmClient, job_root: Path
) -> None:
    """One sbatch: every element's marker holds its id, each waits held in squeue."""
    array = _array(job_root, "held", ["true", "true", "true"])
    ids = await slurm.submit_array(array)
    try:
        assert slurm.scheduler_commands == 1
        base = ids[0].split("_")[0]
        assert ids == [f"{base}_{i}" for i in range(3)]
        assert await slurm.held_jobs(job_root) == {f"held{i}": ids[i] for i in range(3)}
        poll = await slurm.poll(ids, [])
        assert {i.state for i in poll.by_id.values()} == {JobState.HELD}
        assert {i.name for i in poll.by_id.values()} == {"held"}
    finally:
        await slurm.delete(ids)


async def test_slurm_elements_are_released_and_cancelled_alone(
    slurm: SlurmClient, job_root: Path
) -> None:
    """Element 0 released alone runs while 1 and 2 wait; 1 cancelled alone; the whole array's
    release then runs 2 only. Each element's end is its own, by its own id. (Slurm 22.05
    keeps no record of a held element cancelled before it ran: it is gone, not CANCELLED.)"""
    array = _array(job_root, "el", ['echo 0 > "$OUTPUTS/o"', "exit 3", "exit 4"])
    ids = await slurm.submit_array(array)
    try:
        await slurm.release({"el0": ids[0]}, job_root)
        assert await _exit_codes(slurm, job_root, ["el0"]) == {"el0": 0}
        waiting = (await slurm.poll(ids[1:], [])).by_id
        assert {i.state for i in waiting.values()} == {JobState.HELD}
        await slurm.delete([ids[1]])
        await slurm.release_arrays({"el2": ids[2]}, job_root)
        assert await _exit_codes(slurm, job_root, ["el2"]) == {"el2": 4}
        with anyio.fail_after(30):
            # squeue is asked again until it shows the end the job directory shows
            while (ended := (await slurm.poll(ids, [])).by_id)[ids[2]].state.active:  # noqa: ASYNC110
                await anyio.sleep(0.5)
    finally:
        await slurm.delete(ids)
    assert [(ended[i].state, ended[i].end_cause) for i in ids] == [
        (JobState.COMPLETED, EndCause.SUCCESS),
        (JobState.GONE, None),
        (JobState.COMPLETED, EndCause.EXIT_CODE),
    ]
    assert not (job_root / "el1" / "status" / "started").exists()  # cancelled before it ran
    assert await slurm.held_jobs(job_root) == {"el1": ids[1]}  # only a release forgets one


async def test_the_slurm_wrappers_qsub_t_submits_and_releases_a_whole_array(
    client: PbsClient, job_root: Path
) -> None:
    """`qsub -h -t`: markers `<id>_<i>` (the wrappers print a bare number), one `qrls` of the
    array runs every element, each in its own job directory. Their qstat does not list
    elements: that is where the wrappers stop."""
    array = _array(job_root, "tq", ['echo a > "$OUTPUTS/o"', "exit 5"])
    ids = await client.submit_array(array)
    try:
        assert await client.held_jobs(job_root) == {"tq0": ids[0], "tq1": ids[1]}
        await client.release_arrays({"tq0": ids[0], "tq1": ids[1]}, job_root)
        assert await _exit_codes(client, job_root, ["tq0", "tq1"]) == {"tq0": 0, "tq1": 5}
        assert (job_root / "tq0" / "OUTPUTS" / "o").read_text() == "a\n"
        assert await client.held_jobs(job_root) == {}  # the release forgot the markers
        poll = await client.poll(ids, [])
        assert {i.state for i in poll.by_id.values()} == {JobState.GONE}
    finally:
        await client.delete([ids[0].split("_")[0]])


async def test_the_slurm_wrappers_know_no_element_and_act_on_the_whole_array(
    client: PbsClient, job_root: Path
) -> None:
    """Where the wrappers stop: a held element is unknown to their qstat (GONE; `qstat -t` is
    refused), `qrls 123_1` releases every element, and `qdel 123_0` deletes every element."""
    released = _array(job_root, "rl", ["true", "true", "true"])
    ids = await client.submit_array(released)
    deleted = _array(job_root, "dl", ["sleep 60", "sleep 60"])
    gone = await client.submit_array(deleted)
    slurm = SlurmClient(client.transport)
    try:
        assert {i.state for i in (await client.poll(ids, [])).by_id.values()} == {JobState.GONE}
        t = await client.transport.run(["qstat", "-t"])
        assert (t.exit_status, "Unknown option: t" in t.stderr) == (2, True)
        await client.release({"rl1": ids[1]}, job_root)  # element 1 alone, as asked
        names = ["rl0", "rl1", "rl2"]
        assert await _exit_codes(client, job_root, names) == dict.fromkeys(names, 0)
        assert {i.state for i in (await slurm.poll(gone, [])).by_id.values()} == {JobState.HELD}
        await client.delete([gone[0]])  # element 0 alone, as asked
        with anyio.fail_after(30):
            while any(i.state.active for i in (await slurm.poll(gone, [])).by_id.values()):  # noqa: ASYNC110
                await anyio.sleep(0.5)
    finally:
        await slurm.delete([*ids, *gone])
