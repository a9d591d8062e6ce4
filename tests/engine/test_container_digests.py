"""A container image's digest: hashed where it is, once per image version, kept on the cluster."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path, PurePosixPath

import pytest

from aspider.run.tasks.containers import CACHE_DIR, ContainerDigests
from pbs.local import LocalTransport

pytestmark = pytest.mark.anyio


async def test_an_image_is_hashed_once_and_again_only_when_it_changes(tmp_path: Path) -> None:
    image = tmp_path / "images" / "tool.sif"
    image.parent.mkdir()
    image.write_bytes(b"image v1" * 1000)
    root = PurePosixPath(str(tmp_path / "work"))
    async with LocalTransport() as transport:
        first = await ContainerDigests(transport, root).describe(str(image))
        assert first["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
        assert first["size"] == 8000
        (kept,) = (tmp_path / "work" / CACHE_DIR).iterdir()
        # The next sweep reads the kept digest: a planted one is what it reports, unhashed.
        kept.write_text(json.dumps({**first, "sha256": "f" * 64}))
        again = await ContainerDigests(transport, root).describe(str(image))
        assert again["sha256"] == "f" * 64
        # A new image at the same path (another mtime) is hashed again.
        image.write_bytes(b"image v2" * 1000)
        os.utime(image, (first["mtime"] + 10, first["mtime"] + 10))
        changed = await ContainerDigests(transport, root).describe(str(image))
        assert changed["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()


async def test_a_missing_image_is_recorded_with_why_and_stops_nothing(tmp_path: Path) -> None:
    async with LocalTransport() as transport:
        digests = ContainerDigests(transport, PurePosixPath(str(tmp_path)))
        found = await digests.describe(str(tmp_path / "nowhere.sif"))
        assert (found["sha256"], found["why"]) == (None, "no such file on the cluster")
        assert await digests.describe(None) == {"path": None}
