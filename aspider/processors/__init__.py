"""
Processors: declarative YAML (DAX's v3 shape) or Python subclasses, validated at load time.
"""

from aspider.processors._graph import check_graph
from aspider.processors._load import (
    expand_paths,
    load_processor,
    load_processors,
    parse_file_name,
    parse_processor_text,
    read_processor_file,
)
from aspider.processors._model import (
    AssessorInput,
    AttrInput,
    CommandSpec,
    ContainerSpec,
    FilterSpec,
    Inputs,
    OutputSpec,
    ProcessorSpec,
    Requirements,
    ResourceSpec,
    ScanInput,
    SessionGroup,
    XnatInputs,
)
from aspider.processors._python import Processor, load_processor_class
from aspider.processors._render import build_task, render_command

__all__ = [
    "AssessorInput",
    "AttrInput",
    "CommandSpec",
    "ContainerSpec",
    "FilterSpec",
    "Inputs",
    "OutputSpec",
    "Processor",
    "ProcessorSpec",
    "Requirements",
    "ResourceSpec",
    "ScanInput",
    "SessionGroup",
    "XnatInputs",
    "build_task",
    "check_graph",
    "expand_paths",
    "load_processor",
    "load_processor_class",
    "load_processors",
    "parse_file_name",
    "parse_processor_text",
    "read_processor_file",
    "render_command",
]
