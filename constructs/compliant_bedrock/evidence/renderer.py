"""What a renderer is: a named pure function from the evidence model (and the files written before it) to files.

Kept apart from :mod:`.render` (the list of renderers) so a renderer module can name the contract without
importing every other renderer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .model import EvidenceModel

#: file name -> text, what a renderer returns.
Files = dict[str, str]


@dataclass(frozen=True)
class Manifest:
    """The files of this evidence set written so far (name -> sha256): each stack's files, the perimeter proof's,
    then each renderer's in turn (``files``); and the files other writers left in the directory that the evidence
    cites (``beside``: the gate's ``findings.json``)."""

    files: Mapping[str, str]
    beside: Mapping[str, str]

    def hashes(self) -> dict[str, str]:
        """File name -> sha256 of every file present (a listed file that is absent has no hash: never cited)."""
        return {name: digest for name, digest in {**self.beside, **self.files}.items() if digest}


@dataclass(frozen=True)
class Renderer:
    """A named rendering of the model; ``owns``: the file patterns it alone writes (a file matching one that this
    run did not render is an earlier synth's, and the writer removes it)."""

    name: str
    render: Callable[[EvidenceModel, Manifest], Files]
    owns: tuple[str, ...]
