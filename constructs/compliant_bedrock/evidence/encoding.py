"""How evidence documents are serialized: one function, so a file's bytes and the sha256 others cite agree."""

from __future__ import annotations

from typing import Any

import orjson


def dump_json(value: Any, *, indent: bool = True) -> str:
    """Sorted keys, indented, a final newline; ``indent=False`` for a document tools read, not people (the
    assessment results: an observation per rule result and perimeter decision, 15 MB indented for the reference
    app, 9 MB compact)."""
    # orjson: the stdlib encoder falls back to pure Python when indenting (1.7 s of 4.4 s for 10 stacks).
    option = (orjson.OPT_INDENT_2 if indent else 0) | orjson.OPT_SORT_KEYS
    return orjson.dumps(value, option=option).decode() + "\n"
