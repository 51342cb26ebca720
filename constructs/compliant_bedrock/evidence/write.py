"""The one writer of the cross-stack evidence: run the renderers over the model, write, remove stale files.

``cdk.out`` outlives synths: a file an earlier synth wrote that this one did not (a stack that left the app,
an OSCAL POA&M that now has no item) would pass for current evidence, so whatever a renderer owns and did
not render this time is removed, and so is every per-stack or perimeter file of a stack the model lacks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from . import stack_cache
from .model import EvidenceModel
from .render import RENDERERS, Manifest, Renderer, stack_files

#: Every per-stack evidence file matches one of these (see ``render.stack_files``), and the perimeter proof's.
STACK_FILE_PATTERNS = ("matrix-*.json", "matrix-*.md", "architecture-*.svg", "architecture-*.png",
                       "responsibility-*.md", "sdr-*.json", "sdr-*.md", "ssp-*.json",
                       "perimeter-*.json", "perimeter-*.md")
#: Files other writers leave beside the evidence that the evidence cites by hash.
BESIDE = ("findings.json", "findings.sarif", "cfn-guard.json")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hash_files(dest: Path, names: Iterable[str]) -> dict[str, str]:
    return {name: _sha256((dest / name).read_bytes()) for name in names if (dest / name).is_file()}


def write_evidence(model: EvidenceModel, dest: Path,
                   renderers: Sequence[Renderer] = RENDERERS, cache_dir: Path | None = None) -> list[Path]:
    """Render ``model`` with ``renderers`` in order into ``dest``; return every file of the evidence set (the
    stacks' and the perimeter proof's, written before, included), sorted. With ``cache_dir``
    (:mod:`.stack_cache`), documents rendered before from the same model, code and files are copied back."""
    dest.mkdir(parents=True, exist_ok=True)
    # Written before the renderers: each stack's files, and the perimeter proof's (cited, not rewritten).
    before = [name for s in model.stacks for name in stack_files(s.file_name)]
    before += [name for proof in model.perimeter.values() for name in proof.files]
    files = {name: "" for name in before}  # listed even if absent, as the summary has always listed them
    files.update(_hash_files(dest, before))
    # ... and make verify's results, where it ran after the synth: cited by hash like the gate's own files
    beside = _hash_files(dest, [*BESIDE, *(v.file for v in model.verified),
                                *(v.file.replace(".json", suffix) for v in model.verified
                                  for suffix in (".md", "-oscal.json"))])
    owned: list[str] = [pattern for renderer in renderers for pattern in renderer.owns]
    key = stack_cache.documents_key(model, files, beside, [r.name for r in renderers]) if cache_dir else ""
    cached = stack_cache.load_documents(cache_dir, key, dest)
    if cached is not None:
        files.update(cached)
    else:
        written: list[str] = []
        for renderer in renderers:
            rendered = renderer.render(model, Manifest(dict(files), beside))
            for name, text in rendered.items():
                data = text.encode("utf-8")
                (dest / name).write_bytes(data)
                files[name] = _sha256(data)
                written.append(name)
        stack_cache.store_documents(cache_dir, key, dest, {name: files[name] for name in written})
    current = set(files)
    for stale in {f for pattern in (*STACK_FILE_PATTERNS, *owned) for f in dest.glob(pattern)}:
        if stale.name not in current:
            stale.unlink()
    return sorted(dest / name for name in files)
