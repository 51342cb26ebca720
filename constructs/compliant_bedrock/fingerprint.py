"""The identity of this package's code, for the caches that keep what it computed.

A cache may hand back what an earlier synth computed only when the code that computed it is the same: every
cache key (cdk-nag's results, the Bedrock pack's, the evidence) includes :func:`code_fingerprint`, so editing
any rule, renderer or data file misses every entry.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import metadata
from pathlib import Path


@cache
def code_fingerprint() -> str:
    """sha256 of the package's sources and data files, and of the encoders' versions (orjson, Pillow)."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".tsv", ".json", ".yaml", ".mjs")
                       and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for package in ("orjson", "Pillow"):
        digest.update(package_version(package).encode() + b"\0")
    return digest.hexdigest()


@cache
def package_version(package: str) -> str:
    """``name==version`` of an installed distribution, or ``name absent`` (once per process: ``importlib.metadata``
    scans site-packages on every call, 1.4 ms each, three per stack in the cdk-nag cache's keys)."""
    try:
        return f"{package}=={metadata.version(package)}"
    except metadata.PackageNotFoundError:
        return f"{package} absent"
