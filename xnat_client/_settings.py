"""
Connection settings, resolved once into frozen, typed values.

`XnatSettings` is the one description of how to reach an XNAT: where it is, who logs in, how
TLS is checked, which proxy carries the traffic, how long to wait and how often to retry.
`XnatClient.from_settings` turns it into a client; an application reading its own settings
file (aspider's `xnat:` section) builds on this model instead of repeating its fields. The
defaults live here and nowhere else; `XnatClient`'s keyword arguments use the same constants.
Retry and timeout policies are small frozen models of their own so tests can make backoff tiny.
"""

from __future__ import annotations

import random
import urllib.request
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

DEFAULT_CONCURRENCY = 16  # requests in flight at once, and connections kept open


class Timeouts(BaseModel):
    """Separate limits, in seconds: a slow listing must not be confused with a dead host."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    connect: float = Field(default=10.0, gt=0)
    read: float = Field(default=120.0, gt=0)  # between two reads of one answer, not in total
    write: float = Field(default=120.0, gt=0)
    pool: float = Field(default=60.0, gt=0)  # waiting for a connection of the pool

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


class RetryPolicy(BaseModel):
    """
    Exponential backoff with jitter for idempotent requests.

    The n-th retry waits `min(backoff_max, backoff_initial * 2**n)`, shortened at random by up to
    `jitter` of itself so that many clients recovering together do not retry in lockstep.

    `budget` bounds when a retry may start: a retry is made only if it would start within
    `budget` seconds of the first attempt's start, counting the time up to the start of the
    attempt that just failed plus the backoff, and not how long that attempt itself waited.
    So a request that hung until its read timeout (120 s by default, longer than the 60 s
    budget) is still retried at least once, and a storm of quick failures stops after `budget`.
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

    def may_retry(self, retry: int, last_start: float, delay: float) -> bool:
        """
        Whether retry number `retry` (0-based) may follow an attempt that started `last_start`
        seconds after the first one, once `delay` seconds of backoff have passed.
        """
        return retry + 1 < self.attempts and last_start + delay <= self.budget


class XnatSettings(BaseModel):
    """
    Where XNAT is and how to talk to it.

    TLS: certificates are checked against the system's trust store (which honours
    `SSL_CERT_FILE` and `SSL_CERT_DIR`), or against `ca_bundle` instead when it is set;
    `verify=False` turns checking off, with a warning when the client is made.

    Proxy: None (the default) takes it from the standard environment variables, resolved
    once per client for the XNAT host: `HTTPS_PROXY` for an https URL, `HTTP_PROXY` for
    http, `ALL_PROXY` for either, in upper or lower case, and none when the host matches
    `NO_PROXY`. A URL (`http://proxy.example.org:3128`) uses that proxy for every request;
    "" goes direct whatever the environment says.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    user: str | None = None
    password: SecretStr | None = None
    alias: str | None = None  # an alias token: `alias` + `secret` sent as Basic credentials
    secret: SecretStr | None = None
    netrc: Path | None = None  # where to look the host up when no credentials are given
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1)
    verify: bool = True
    ca_bundle: Path | None = None
    proxy: str | None = None
    timeouts: Timeouts = Timeouts()
    retry: RetryPolicy = RetryPolicy()

    @field_validator("proxy")
    @classmethod
    def _proxy_url(cls, value: str | None) -> str | None:
        if value:
            check_proxy_url(value)
        return value

    def effective_proxy(self) -> str | None:
        """The proxy a client made now would use for `url` (None: it goes direct)."""
        return choose_proxy(httpx.URL(self.url), self.proxy)


def check_proxy_url(url: str) -> None:
    """A proxy is reached over HTTP (or HTTPS); anything else is a mistake worth naming."""
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"proxy must look like http://host:port, got {parsed.scheme}://...")


def choose_proxy(url: httpx.URL, proxy: str | None) -> str | None:
    """
    The proxy for requests to `url`: `proxy` itself; "" for none; for None the environment's
    (`getproxies`: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY) unless NO_PROXY names the host.
    """
    if proxy is not None:
        return proxy or None
    found = urllib.request.getproxies()
    chosen = found.get(url.scheme) or found.get("all")
    if not chosen or urllib.request.proxy_bypass(url.host):
        return None
    try:
        check_proxy_url(chosen)
    except ValueError as exc:
        raise ValueError(f"the {url.scheme.upper()}_PROXY / ALL_PROXY variable: {exc}") from None
    return chosen
