"""
Files a processor is read from or names, refused in one line each that names the file and the
fix, never a traceback: a processor file that is not plain YAML text (`aspider processors
--validate` run as a process), and a job template that is DAX's whole job (refused by a run
with the rule `aspider import-dax` uses to leave one out).
"""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aspider.dax_import
import aspider.processors
from aspider._exceptions import ConfigError
from aspider.cli.common import EXIT_FAILED
from aspider.dax_import import DaxEnvironment, convert, dax_job_problem, read_dax_settings
from aspider.processors import YamlSyntaxError, load_processor, read_yaml_with_lines
from aspider.run.tasks.job_templates import checked_job_template, run_notices
from tests.aspider.processes import clean_env, run_aspider

OURS = Path(__file__).parents[1] / "dax_compat" / "processors"
_MAPPING = (
    "`key: value` lines (`procyamlversion: 3.0.0-dev.0`, `inputs:`, `command:`, ...; "
    "docs/processors.md)"
)
# Each file's content, and the one line `--validate` prints after `FILE:`.
UNREADABLE = {
    "a binary file": (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        (
            "1: not UTF-8 text (byte 0x89, invalid start byte): if it is YAML, save it as UTF-8; "
            "if not (a binary file), move it elsewhere"
        ),
    ),
    "a !!python/object tag": (
        (
            b"procyamlversion: 3.0.0-dev.0\n"
            b"command: !!python/object:subprocess.Popen {args: [touch, ran]}\n"
        ),
        (
            "2: the tag !!python/object:subprocess.Popen is not plain YAML (text, numbers, "
            "true/false, lists, mappings), which is all aspider reads (it builds no objects "
            "from tags): delete the tag"
        ),
    ),
    "an empty file": (
        b"",
        f"1: the file is empty (or only comments): write the processor as {_MAPPING}",
    ),
    "a list, not a mapping": (
        b"# a list\n- procyamlversion: 3.0.0-dev.0\n- command: {type: shell, args: 'true'}\n",
        f"2: a processor file is a mapping, not a list: write it as {_MAPPING}",
    ),
}


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_validate_refuses_a_file_that_is_not_plain_yaml_in_one_line(
    case: str, tmp_path: Path
) -> None:
    """`aspider processors --validate FILE` exits 1, as for any invalid processor file, and
    prints one line: the file, the line, what is wrong and the fix; no traceback."""
    content, said = UNREADABLE[case]
    path = tmp_path / "stats_v1.0.0.yaml"
    path.write_bytes(content)
    result = run_aspider(["processors", "--validate", str(path)], clean_env(tmp_path), tmp_path)
    assert "Traceback" not in result.stderr
    assert (result.returncode, result.stderr.splitlines()) == (EXIT_FAILED, [f"{path}:{said}"])
    assert not (tmp_path / "ran").exists()


_YAMLISH = st.sampled_from(
    ["a", ": ", "- ", "\n", "  ", "[", "]", "{", "}", ",", "&x ", "*x", "<<: ", "!!python/name:os",
     "!!set ", "!!binary ", "!local ", "2020-13-45", "'", '"', "\x00", "\t", "é", "---\n", "? "]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(content=st.binary(max_size=64) | st.lists(_YAMLISH, max_size=24).map("".join))
def test_any_content_is_values_or_one_yaml_error(
    content: bytes | str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Whatever a file holds, the reader returns plain values or raises `YamlSyntaxError`
    with a line in the file: nothing else escapes to become a traceback."""
    path = tmp_path_factory.mktemp("yaml") / "x.yaml"
    raw = content.encode() if isinstance(content, str) else content
    path.write_bytes(raw)
    try:
        read_yaml_with_lines(path)
    except YamlSyntaxError as exc:
        line, message = exc.line, str(exc)
    else:
        return
    assert 1 <= line <= raw.count(b"\n") + 1
    assert message


# A DAX template that is its whole job (VUIIS's job_template_v3.txt, cut short), and one with
# only the site's lines around ${job_cmds}.
DAX_JOB = (
    "#!/bin/bash\n#SBATCH --mem=${job_memory}\n${job_cmds}\n"
    'SESSID=`curl -s -n "$XNATHOST/data/JSESSION"`\n'
    'for IN in "${INLIST[@]}"; do echo $IN; done\neval $MAINCMD\nmkdir -p $DSTDIR\n'
)
SITE_LINES = "#!/bin/bash\n#SBATCH --account=${job_rungroup}\nmodule load apptainer\n${job_cmds}\n"
KEEP = "keep its site lines (#SBATCH, module load) and ${job_cmds} in a template of their own"


def test_a_processor_template_that_is_dax_s_whole_job_stops_a_run(tmp_path: Path) -> None:
    """A processor's jobtemplate, beside it, that is DAX's whole job: on the Slurm executor
    the run's notices (before any job) raise a ConfigError naming the template and what to
    keep of it; an executor that does not use templates only says it is not used."""
    shutil.copy(OURS / "anat_v1.0.0.yaml", tmp_path)
    template = tmp_path / "job_template_v3.txt"
    template.write_text(DAX_JOB)
    proc = load_processor(tmp_path / "anat_v1.0.0.yaml")
    with pytest.raises(ConfigError) as refused:
        run_notices([proc], "slurm", "/images")
    assert str(refused.value) == (
        f"job template {template}: it is DAX's own job: it uses $XNATHOST, set only by DAX's "
        "${job_cmds} for its curl downloads, $MAINCMD and $DSTDIR upload, while aspider's "
        f"${{job_cmds}} is the whole job; {KEEP}, and name that instead"
    )
    unused = (
        "anat_v1: jobtemplate job_template_v3.txt is not used: the pbs executor writes its own "
        "job script (a Slurm executor uses it)"
    )
    assert run_notices([proc], "pbs", "/images") == [unused]
    template.write_text(SITE_LINES)  # a refusal is not remembered: the fixed file is read again
    assert run_notices([proc], "slurm", "/images") == []


@pytest.mark.parametrize(
    "text",
    [DAX_JOB, SITE_LINES, SITE_LINES + "cp -r $DSTDIR/ out\n", SITE_LINES + "echo ${OUTLIST}\n"],
)
def test_import_and_run_judge_a_template_by_one_rule(text: str, tmp_path: Path) -> None:
    """`import-dax` makes a template cluster.job_template exactly when a run accepts it, and
    leaves it out with the words the run refuses it with."""
    template = tmp_path / "job.txt"
    template.write_text(text)
    dax = tmp_path / "dax.yaml"
    dax.write_text(f"jobtemplate: {template}\nprojects: []\n")
    env = DaxEnvironment(None, tmp_path / ".netrc", tmp_path)
    conversion = convert(read_dax_settings(dax), env)
    carried = conversion.settings["cluster"].get("job_template")
    problem = dax_job_problem(text)
    if problem is None:
        assert carried == str(template)
        assert checked_job_template(text, "t").text == text
    else:
        assert carried is None
        assert any(problem in note for note in conversion.notes)
        with pytest.raises(ConfigError, match="it is DAX's own job") as refused:
            checked_job_template(text, f"cluster.job_template: {template}")
        assert str(refused.value).startswith(f"cluster.job_template: {template}: {problem}")


@pytest.mark.parametrize("package", [aspider.processors, aspider.dax_import])
def test_a_package_exports_exactly_its_all(package: ModuleType) -> None:
    """`__all__` names each public name once (the YAML reader among the processors' names,
    for the import), and nothing public is left out of it."""
    names = package.__all__
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert (sorted(set(names)), set(names)) == (names, public)
    assert {"LineMap", "YamlSyntaxError", "read_yaml_with_lines"} <= set(aspider.processors.__all__)
