"""
Processors: what a pipeline is, as declarative YAML (DAX's v3 shape) or a Python subclass.

Validated at load time (every problem as file:line: field), compiled once (glob regexes, input
order). The lowest layer of `aspider`: it imports only `aspider._exceptions` and the
XNAT-free standard library, so the planner, the engine and the CLI may all stand on it.

Its YAML reader (`read_yaml_with_lines`, `load_yaml_with_lines`) is public: it keeps the line of
every key (`LineMap`) and ends any bad file in one `YamlSyntaxError` with a line, so every YAML
file aspider reads (a DAX settings file too) names the line to fix.
"""

from aspider.processors._attrs import attr_field, attr_names
from aspider.processors._checks import iter_inputs
from aspider.processors._compiled import CompiledInput, CompiledProcessor, FilterRef
from aspider.processors._graph import check_graph
from aspider.processors._inputs import (
    AnalysisAssessor,
    AnalysisScan,
    AnalysisSessions,
    AnalysisSubjects,
    AssessorInput,
    AttrInput,
    EditInput,
    FilterSpec,
    Inputs,
    PetScanInput,
    ResourceSpec,
    ScanInput,
    SessionGroup,
    XnatInputs,
)
from aspider.processors._load import (
    expand_paths,
    is_named,
    load_processor,
    load_processors,
    load_processors_leniently,
)
from aspider.processors._model import (
    CommandSpec,
    ContainerSpec,
    Level,
    OutputSpec,
    ProcessorSpec,
    Requirements,
    RetryCause,
    RetryPolicy,
    StaleKind,
    TunePolicy,
    stale_kinds,
)
from aspider.processors._overrides import (
    OverrideValue,
    override_key_problem,
    with_overrides,
    with_stale_policy,
)
from aspider.processors._python import Processor, load_processor_class
from aspider.processors._read import (
    ProcessorFile,
    parse_file_name,
    parse_processor_text,
    read_processor,
    read_processor_file,
)
from aspider.processors._render import (
    container_path,
    dax_escape_args,
    double_quoted,
    render_command,
    render_script,
)
from aspider.processors._trial import is_trial, trial_of
from aspider.processors._units import format_duration
from aspider.processors._yaml import (
    KeyPath,
    LineMap,
    YamlSyntaxError,
    load_yaml_with_lines,
    read_yaml_with_lines,
)

__all__ = [
    "AnalysisAssessor",
    "AnalysisScan",
    "AnalysisSessions",
    "AnalysisSubjects",
    "AssessorInput",
    "AttrInput",
    "CommandSpec",
    "CompiledInput",
    "CompiledProcessor",
    "ContainerSpec",
    "EditInput",
    "FilterRef",
    "FilterSpec",
    "Inputs",
    "KeyPath",
    "Level",
    "LineMap",
    "OutputSpec",
    "OverrideValue",
    "PetScanInput",
    "Processor",
    "ProcessorFile",
    "ProcessorSpec",
    "Requirements",
    "ResourceSpec",
    "RetryCause",
    "RetryPolicy",
    "ScanInput",
    "SessionGroup",
    "StaleKind",
    "TunePolicy",
    "XnatInputs",
    "YamlSyntaxError",
    "attr_field",
    "attr_names",
    "check_graph",
    "container_path",
    "dax_escape_args",
    "double_quoted",
    "expand_paths",
    "format_duration",
    "is_named",
    "is_trial",
    "iter_inputs",
    "load_processor",
    "load_processor_class",
    "load_processors",
    "load_processors_leniently",
    "load_yaml_with_lines",
    "override_key_problem",
    "parse_file_name",
    "parse_processor_text",
    "read_processor",
    "read_processor_file",
    "read_yaml_with_lines",
    "render_command",
    "render_script",
    "stale_kinds",
    "trial_of",
    "with_overrides",
    "with_stale_policy",
]
