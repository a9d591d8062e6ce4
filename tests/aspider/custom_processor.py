"""A Python processor used by the tests: FreeSurfer from its YAML, but only on baseline sessions."""

from __future__ import annotations

from aspider.plan import MatchResult, Scope
from aspider.processors import Processor


class BaselineOnly(Processor):
    YAML = "../../examples/processors/freesurfer_v7.2.0.yaml"

    async def match(self, scope: Scope) -> MatchResult:
        result = self.default_match(scope)
        if not scope.anchor.label.endswith("_BL"):
            return MatchResult((), result.not_applicable)
        return result
