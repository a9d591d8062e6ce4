"""The request as handlers see it: parsed target, store, authenticated user."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import QueryParams
from starlette.requests import Request

from xnat_client.sandbox._paths import Target
from xnat_client.sandbox._store import Store


@dataclass(slots=True)
class Call:
    request: Request
    target: Target
    store: Store
    user: str
    raw_empty_headers: bool = True  # XnatServer's switch: empty listings headed by SQL aliases

    @property
    def params(self) -> QueryParams:
        return self.request.query_params

    @property
    def fmt(self) -> str:
        """The requested representation; listings default to JSON rather than HTML."""
        return self.params.get("format", "json").lower()

    def flag(self, name: str) -> bool:
        return self.params.get(name, "").lower() == "true"
