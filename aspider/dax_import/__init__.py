"""
A DAX settings file as aspider settings (`aspider import-dax`), checked as DAX would use it.

What maps, each with where it came from (`Carried`): the processor files (`yamlprocessors`,
`sgpprocessors`, joined to `processorlib`), each loaded and validated; each project's processors,
with its per-handle `arguments` as `projects.<P>.processors.<proctype>` overrides (DAX varies a
processor per project by naming the file twice under two handles); the XNAT host and user where
DAX finds them (`attrs.xnat_host`, else `XNAT_HOST`; `attrs.xnat_user`, else the `~/.netrc`
entry of that host); `cluster.executor: slurm` (DAX 2.x submits with sbatch); `jobtemplate` as
`cluster.job_template` when aspider can fill it; `singularity_imagedir`, `queue_limit`,
`job_rungroup`. What does not map is a line each, with the reason; a password never does.

Whatever would make the written settings wrong (an entry of the wrong shape, a missing or
invalid processor file or job template, an aspider settings file given by mistake) is a
`ConfigError`, one line per problem: `file:line: where: what; the fix`.

The modules, one step each: `_document` (the file read, lines kept, DAX's shape checked),
`_import_job` (one import under way: `ImportJob`, `DaxEnvironment`), `_xnat` (host, user,
`~/.netrc`), `_cluster` (executor, job template, limits), `_handles` (the processor entries,
loaded), `_projects` (each project's processors), `_convert` (the steps in order), `_keys`
(DAX's vocabulary: what maps, what does not and why), `_conversion` (the result). `_job_body`
tells DAX's whole-job template apart; a run refuses one with the same rule (`dax_job_problem`).
"""

from aspider.dax_import._conversion import Carried, Conversion
from aspider.dax_import._convert import convert
from aspider.dax_import._document import DaxDocument, read_dax_settings
from aspider.dax_import._import_job import DaxEnvironment
from aspider.dax_import._job_body import dax_job_problem

__all__ = [
    "Carried",
    "Conversion",
    "DaxDocument",
    "DaxEnvironment",
    "convert",
    "dax_job_problem",
    "read_dax_settings",
]
