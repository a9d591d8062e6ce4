"""
Connection settings, resolved once into frozen, typed values.

`XnatSettings` reads `XNAT_*` environment variables (pydantic-settings) so a deployment can
configure the client without code; tests and the engine build it directly. Retry and timeout
policies are small frozen models of their own so tests can make backoff tiny.
"""

from __future__ import annotations

import random
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CONCURRENCY = 16


class Timeouts(BaseModel):
    """Separate limits, in seconds: a slow listing must not be confused with a dead host."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    connect: float = Field(default=10.0, gt=0)
    read: float = Field(default=120.0, gt=0)
    write: float = Field(default=120.0, gt=0)
    pool: float = Field(default=60.0, gt=0)

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


class RetryPolicy(BaseModel):
    """
    Exponential backoff with jitter for idempotent requests.

    The n-th retry waits `min(backoff_max, backoff_initial * 2**n)`, shortened at random by up to
    `jitter` of itself so that many clients recovering together do not retry in lockstep. No retry
    starts once `budget` seconds have passed since the first attempt.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    attempts: int = Field(default=5, ge=1)
    backoff_initial: float = Field(default=0.5, ge=0)
    backoff_max: float = Field(default=10.0, ge=0)
    jitter: float = Field(default=0.5, ge=0, le=1)
    budget: float = Field(default=60.0, ge=0)

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number `retry` (0-based)."""
        capped = min(self.backoff_max, self.backoff_initial * (2.0**retry))
        draw = rng.random() if rng is not None else random.random()
        return capped * (1.0 - self.jitter * draw)


class XnatSettings(BaseSettings):
    """Where XNAT is and how to talk to it; `XNAT_URL`, `XNAT_USER`, ... in the environment."""

    model_config = SettingsConfigDict(env_prefix="XNAT_", frozen=True, extra="forbid")

    url: str
    user: str | None = None
    password: SecretStr | None = None
    alias: str | None = None  # an alias token: `alias` + `secret` sent as Basic credentials
    secret: SecretStr | None = None
    netrc: Path | None = None  # where to look the host up when no credentials are given
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1)
    timeouts: Timeouts = Timeouts()
    retry: RetryPolicy = RetryPolicy()
