"""
Processors: what a pipeline is, as declarative YAML (DAX's v3 shape) or a Python subclass.

Validated at load time (every problem as file:line: field), compiled once (glob regexes, input
order). The lowest layer of `aspider`: it imports only `aspider._exceptions` and the
XNAT-free standard library, so the planner, the engine and the CLI may all stand on it.
"""

from aspider.processors._checks import iter_inputs
from aspider.processors._compiled import CompiledInput, CompiledProcessor, FilterRef
from aspider.processors._graph import check_graph
from aspider.processors._load import expand_paths, load_processor, load_processors
from aspider.processors._model import (
    AssessorInput,
    AttrInput,
    CommandSpec,
    ContainerSpec,
    FilterSpec,
    Inputs,
    Level,
    OutputSpec,
    ProcessorSpec,
    Requirements,
    ResourceSpec,
    RetryCause,
    RetryPolicy,
    ScanInput,
    SessionGroup,
    XnatInputs,
)
from aspider.processors._python import Processor, load_processor_class
from aspider.processors._read import parse_file_name, parse_processor_text, read_processor_file
from aspider.processors._render import container_path, render_command, render_script

__all__ = [
    "AssessorInput",
    "AttrInput",
    "CommandSpec",
    "CompiledInput",
    "CompiledProcessor",
    "ContainerSpec",
    "FilterRef",
    "FilterSpec",
    "Inputs",
    "Level",
    "OutputSpec",
    "Processor",
    "ProcessorSpec",
    "Requirements",
    "ResourceSpec",
    "RetryCause",
    "RetryPolicy",
    "ScanInput",
    "SessionGroup",
    "XnatInputs",
    "check_graph",
    "container_path",
    "expand_paths",
    "iter_inputs",
    "load_processor",
    "load_processor_class",
    "load_processors",
    "parse_file_name",
    "parse_processor_text",
    "read_processor_file",
    "render_command",
    "render_script",
]
