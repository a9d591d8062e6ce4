"""
Trial runs (`aspider trial`): a processor run under a proctype no processor may have.

DAX's trial builder copies a processor file to `TRIAL_<file>` before building it, so the
assessor's proctype, and the label made from it, read `TRIAL_<proctype>`. aspider takes the
same prefix and makes it a rule: every selection of assessors is by exact proctype, no file or
class aspider loads may be named `TRIAL_...` (`parse_file_name`, `load_processor_class`), and
no input may name such a proctype (`check_spec`). So a trial's assessor is only ever seen by
the trial itself: no sweep pairs it with a task, counts it, or stages it as an input, and DAX,
which matches by proctype too, does not either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the loaders below Processor import this module: no cycle at run time
    from aspider.processors._python import Processor

TRIAL_PREFIX = "TRIAL_"

#: Why a name with the prefix is refused, for the loaders' messages.
TRIAL_NAME_TAKEN = (
    f"{TRIAL_PREFIX} names are kept for trial runs (`aspider trial`), which no sweep takes "
    "for a result"
)


def is_trial(proctype: str) -> bool:
    """Whether `proctype` is a trial's (`TRIAL_...`), never a result any processor takes."""
    return proctype.startswith(TRIAL_PREFIX)


def trial_of(processor: Processor) -> Processor:
    """
    The processor renamed `TRIAL_<proctype>`: the same spec (overrides and all), version and
    file, so its tasks are the processor's own in every respect but their proctype and label.
    Of the same class: a Python processor's own `match` is tried too.
    """
    return type(processor)(
        processor.spec,
        proctype=TRIAL_PREFIX + processor.proctype,
        procversion=processor.procversion,
        source=processor.source,
        notes=processor.notes,
    )
