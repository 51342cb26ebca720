"""The architecture of one stack, drawn from its synthesized template: SVG text and a PNG of the same layout.

Resources are grouped by kind into columns (Network, Access, Guardrail, Audit, Keys, Custom
resources, Other); an arrow goes from a resource to each resource it names through ``Ref``,
``Fn::GetAtt`` or ``Fn::Sub``. No Graphviz: the layout is columns ordered by a few barycenter passes
(fewer crossings), computed once and drawn twice, so the SVG and the PNG show the same picture. The
PNG uses Pillow's bundled font, so it is the same bytes on every machine.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from ..compliance.template import Resource
from .assembly import StackEvidence
from .components import configures_invocation_logging


@dataclass(frozen=True)
class Group:
    name: str
    stroke: str
    fill: str
    test: Callable[[Resource], bool]


_AUDIT = ("AWS::CloudTrail::", "AWS::S3::", "AWS::Logs::")


def _custom(r: Resource) -> bool:
    return r.type.startswith("Custom::") or r.type == "AWS::CloudFormation::CustomResource"


GROUPS: tuple[Group, ...] = (
    Group("Network", "#1f6fb2", "#e8f1fa", lambda r: r.type.startswith("AWS::EC2::")),
    Group("Access", "#b23b1f", "#fbece8", lambda r: r.type.startswith("AWS::IAM::")),
    Group("Guardrail", "#6b3fa0", "#f1ebf8", lambda r: r.type.startswith("AWS::Bedrock::")),
    Group("Audit", "#2b7a3d", "#e9f5ec", lambda r: r.type.startswith(_AUDIT) or configures_invocation_logging(r)),
    Group("Keys", "#a07400", "#fbf4e3", lambda r: r.type.startswith("AWS::KMS::")),
    Group("Custom resources", "#505a64", "#eef0f2", lambda r: _custom(r) or r.type.startswith("AWS::Lambda::")),
    Group("Other", "#505a64", "#f4f4f4", lambda r: True),
)

MARGIN = 28
HEADER = 78
COL_W = 320
COL_GAP = 110
GROUP_VGAP = 18
LOOP_ROOM = 70
GROUP_PAD = 12
GROUP_TITLE = 30
NODE_H = 46
NODE_GAP = 14
LABEL_PX, SMALL_LABEL_PX, TYPE_PX, TITLE_PX, GROUP_PX = 13, 11, 11, 20, 14
#: Width budget per character for truncation: wide enough for DejaVu Sans / Verdana in SVG viewers.
EM_PER_CHAR = 0.58
EDGE = "#5b6670"
TEXT, SUBTLE = "#1b1f23", "#55606a"


@dataclass
class Node:
    logical_id: str
    label: str
    type: str
    group: int
    label_px: int = LABEL_PX
    x: float = 0.0
    y: float = 0.0


@dataclass
class Layout:
    title: str
    subtitle: str
    width: int
    height: int
    nodes: dict[str, Node]
    edges: list[tuple[str, str]]
    #: (group index, x, y, w, h, caption)
    boxes: list[tuple[int, float, float, float, float, str]] = field(default_factory=list)
    #: Room left of the first column for its internal arrows (0: they loop out to the right).
    loop_left: int = 0


def _fit(text: str, px: int, width: float) -> str:
    limit = max(4, int(width / (px * EM_PER_CHAR)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short_label(stack: StackEvidence, logical_id: str) -> tuple[str, int]:
    """The construct path below the stack and its font size: smaller before shorter, the end before the start."""
    full = stack.label(logical_id)
    tail = "/".join(full.split("/")[-2:])
    width = COL_W - 2 * GROUP_PAD - 16
    for text, px in ((full, LABEL_PX), (full, SMALL_LABEL_PX), (tail, LABEL_PX), (tail, SMALL_LABEL_PX)):
        if len(text) <= int(width / (px * EM_PER_CHAR)):
            return text, px
    room = int(width / (SMALL_LABEL_PX * EM_PER_CHAR))
    return "…" + tail[-(room - 1):], SMALL_LABEL_PX


def _group_height(count: int) -> int:
    return GROUP_TITLE + count * (NODE_H + NODE_GAP) - NODE_GAP + 2 * GROUP_PAD


def layout(stack: StackEvidence) -> Layout:
    """Place every resource (groups stacked into columns, rows by barycenter) and list the reference edges."""
    nodes: dict[str, Node] = {}
    for resource in stack.resources:
        group = next(i for i, g in enumerate(GROUPS) if g.test(resource))
        label, px = _short_label(stack, resource.logical_id)
        nodes[resource.logical_id] = Node(resource.logical_id, label, resource.type, group, px)
    edges = sorted({(src, dst) for src in nodes for dst in stack.references(src) if dst in nodes})
    used = sorted({n.group for n in nodes.values()})
    members: dict[int, list[str]] = {g: sorted((n for n in nodes if nodes[n].group == g),
                                               key=lambda n: (nodes[n].type, nodes[n].label, n)) for g in used}

    # Consecutive groups share a column while they fit in the height of the tallest one.
    budget = max([_group_height(max(6, len(m))) for m in members.values()] or [0])
    columns: list[list[int]] = []
    for g in used:
        height = sum(_group_height(len(members[h])) + GROUP_VGAP for h in columns[-1]) if columns else 0
        if columns and height + _group_height(len(members[g])) <= budget:
            columns[-1].append(g)
        else:
            columns.append([g])
    first = set(columns[0]) if columns else set()
    first_loops = any(nodes[a].group in first and nodes[b].group in first for a, b in edges)
    left = MARGIN + (LOOP_ROOM if first_loops else 0)

    def place() -> list[tuple[int, float, float, float, float, str]]:
        boxes = []
        for index, column in enumerate(columns):
            x0 = left + index * (COL_W + COL_GAP)
            y0 = HEADER
            for g in column:
                h = _group_height(len(members[g]))
                boxes.append((g, x0, y0, COL_W, h, f"{GROUPS[g].name} ({len(members[g])})"))
                for row, n in enumerate(members[g]):
                    nodes[n].x = x0 + GROUP_PAD
                    nodes[n].y = y0 + GROUP_TITLE + GROUP_PAD + row * (NODE_H + NODE_GAP)
                y0 += h + GROUP_VGAP
        return boxes

    neighbours: dict[str, list[str]] = {n: [] for n in nodes}
    for src, dst in edges:
        neighbours[src].append(dst)
        neighbours[dst].append(src)
    place()
    for _ in range(8):
        for g in used:
            order = members[g]

            def key(n: str, order: list[str] = order) -> tuple[float, int, str]:
                ys = [nodes[m].y for m in neighbours[n]]
                return (round(sum(ys) / len(ys), 3) if ys else nodes[n].y, order.index(n), n)

            members[g] = sorted(order, key=key)
        place()
    boxes = place()

    width = left + MARGIN + LOOP_ROOM + len(columns) * COL_W + max(0, len(columns) - 1) * COL_GAP
    height = max([b[2] + b[4] for b in boxes] or [HEADER]) + MARGIN
    where = f" ({stack.region})" if stack.region else ""
    return Layout(
        title=f"{stack.name}{where}: {len(nodes)} resources",
        subtitle="From the synthesized CloudFormation template. Arrow: the resource names the one it points at "
                 "(Ref, Fn::GetAtt, Fn::Sub). Label: construct path and type.",
        width=max(width, 1000), height=height, nodes=nodes, edges=edges, boxes=boxes,
        loop_left=left - MARGIN,
    )


# ---------------------------------------------------------------------------------------------
# Geometry shared by both renderers

def _edge_curve(lay: Layout, src: str, dst: str) -> tuple[tuple[float, float], ...]:
    """Cubic Bezier control points (p0, c1, c2, p1) from ``src`` to ``dst``."""
    a, b = lay.nodes[src], lay.nodes[dst]
    w = COL_W - 2 * GROUP_PAD
    ay, by = a.y + NODE_H / 2, b.y + NODE_H / 2
    if a.x == b.x:  # same column: loop out to its side
        reach = 26 + min(LOOP_ROOM - 30, abs(by - ay) / 5)
        if lay.loop_left and a.x - GROUP_PAD - lay.loop_left <= MARGIN:
            return (a.x, ay), (a.x - reach, ay), (b.x - reach, by), (b.x, by)
        return (a.x + w, ay), (a.x + w + reach, ay), (b.x + w + reach, by), (b.x + w, by)
    if a.x < b.x:
        p0, p1 = (a.x + w, ay), (b.x, by)
    else:
        p0, p1 = (a.x, ay), (b.x + w, by)
    dx = (p1[0] - p0[0]) * 0.45
    return p0, (p0[0] + dx, p0[1]), (p1[0] - dx, p1[1]), p1


def _bezier(points: tuple[tuple[float, float], ...], steps: int = 28) -> list[tuple[float, float]]:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
    out = []
    for i in range(steps + 1):
        t = i / steps
        u = 1 - t
        out.append((u**3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t**3 * x3,
                    u**3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t**3 * y3))
    return out


def _arrow_head(points: tuple[tuple[float, float], ...], size: float = 9) -> list[tuple[float, float]]:
    (_, _), (_, _), (cx, cy), (x, y) = points
    dx, dy = x - cx, y - cy
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    ux, uy = dx / length, dy / length
    return [(x, y), (x - size * ux + size * 0.5 * uy, y - size * uy - size * 0.5 * ux),
            (x - size * ux - size * 0.5 * uy, y - size * uy + size * 0.5 * ux)]


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


# ---------------------------------------------------------------------------------------------
# SVG


def render_svg(lay: Layout) -> str:
    w = COL_W - 2 * GROUP_PAD
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width}" height="{lay.height}" '
        f'viewBox="0 0 {lay.width} {lay.height}" font-family="DejaVu Sans, Verdana, Arial, sans-serif">',
        f"<title>{escape(lay.title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{EDGE}"/></marker></defs>',
        f'<rect x="0" y="0" width="{lay.width}" height="{lay.height}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 10}" font-size="{TITLE_PX}" font-weight="bold" fill="{TEXT}">'
        f"{escape(lay.title)}</text>",
        f'<text x="{MARGIN}" y="{MARGIN + 34}" font-size="{TYPE_PX + 1}" fill="{SUBTLE}">{escape(lay.subtitle)}</text>',
    ]
    for g, x, y, bw, bh, caption in lay.boxes:
        group = GROUPS[g]
        out.append(f'<g class="group"><rect x="{_n(x)}" y="{_n(y)}" width="{_n(bw)}" height="{_n(bh)}" rx="10" '
                   f'fill="{group.fill}" fill-opacity="0.55" stroke="{group.stroke}" stroke-width="1.5"/>'
                   f'<text x="{_n(x + GROUP_PAD)}" y="{_n(y + 21)}" font-size="{GROUP_PX}" font-weight="bold" '
                   f'fill="{group.stroke}">{escape(caption)}</text></g>')
    for src, dst in lay.edges:
        p = _edge_curve(lay, src, dst)
        d = f"M{_n(p[0][0])},{_n(p[0][1])} C{_n(p[1][0])},{_n(p[1][1])} {_n(p[2][0])},{_n(p[2][1])} " \
            f"{_n(p[3][0])},{_n(p[3][1])}"
        out.append(f'<path class="edge" d="{d}" fill="none" stroke="{EDGE}" stroke-width="1.3" stroke-opacity="0.75" '
                   f'marker-end="url(#arrow)"><title>{escape(src)} -&gt; {escape(dst)}</title></path>')
    for n in sorted(lay.nodes.values(), key=lambda n: n.logical_id):
        group = GROUPS[n.group]
        out.append(
            f'<g class="node" id="{escape(n.logical_id)}"><title>{escape(n.logical_id)} ({escape(n.type)})</title>'
            f'<rect x="{_n(n.x)}" y="{_n(n.y)}" width="{w}" height="{NODE_H}" rx="6" fill="#ffffff" '
            f'stroke="{group.stroke}" stroke-width="1.4"/>'
            f'<text x="{_n(n.x + 8)}" y="{_n(n.y + 19)}" font-size="{n.label_px}" fill="{TEXT}">'
            f"{escape(_fit(n.label, n.label_px, w - 16))}</text>"
            f'<text x="{_n(n.x + 8)}" y="{_n(n.y + 36)}" font-size="{TYPE_PX}" fill="{SUBTLE}">'
            f"{escape(_fit(n.type, TYPE_PX, w - 16))}</text></g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# PNG (Pillow draws the same layout)

#: Pixels per layout unit: crisp text at 1.5x, and a PNG that encodes in ~0.15 s.
SCALE = 1.5


@cache
def _font(px: int):  # -> PIL.ImageFont.FreeTypeFont
    from PIL import ImageFont

    return ImageFont.load_default(size=round(px * SCALE))


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _blend(color: str, alpha: float) -> tuple[int, int, int]:
    r, g, b = _rgb(color)
    return (round(255 - (255 - r) * alpha), round(255 - (255 - g) * alpha), round(255 - (255 - b) * alpha))


def render_png(lay: Layout, path: Path, executor: Executor | None = None) -> Future | None:
    """Draw here; encode and write here too, or on ``executor`` (Pillow's encoder releases the GIL, and
    encoding is 60% of a diagram's cost): then the returned future says when the file is written."""
    from PIL import Image, ImageDraw

    s = SCALE
    image = Image.new("RGB", (round(lay.width * s), round(lay.height * s)), "white")
    draw = ImageDraw.Draw(image)
    w = COL_W - 2 * GROUP_PAD

    def sc(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * s, y * s) for x, y in points]

    draw.text((MARGIN * s, (MARGIN - 8) * s), lay.title, font=_font(TITLE_PX), fill=_rgb(TEXT))
    draw.text((MARGIN * s, (MARGIN + 22) * s), lay.subtitle, font=_font(TYPE_PX + 1), fill=_rgb(SUBTLE))
    for g, x, y, bw, bh, caption in lay.boxes:
        group = GROUPS[g]
        draw.rounded_rectangle([x * s, y * s, (x + bw) * s, (y + bh) * s], radius=10 * s,
                               fill=_blend(group.fill, 0.55), outline=_rgb(group.stroke), width=max(1, int(1.5 * s)))
        draw.text(((x + GROUP_PAD) * s, (y + 7) * s), caption, font=_font(GROUP_PX), fill=_rgb(group.stroke))
    edge = _blend(EDGE, 0.8)
    for src, dst in lay.edges:
        p = _edge_curve(lay, src, dst)
        draw.line(sc(_bezier(p)), fill=edge, width=max(1, int(1.3 * s)), joint="curve")
        draw.polygon(sc(_arrow_head(p)), fill=edge)
    for n in sorted(lay.nodes.values(), key=lambda n: n.logical_id):
        group = GROUPS[n.group]
        draw.rounded_rectangle([n.x * s, n.y * s, (n.x + w) * s, (n.y + NODE_H) * s], radius=6 * s,
                               fill="white", outline=_rgb(group.stroke), width=max(1, int(1.4 * s)))
        draw.text(((n.x + 8) * s, (n.y + 6 + LABEL_PX - n.label_px) * s), _fit(n.label, n.label_px, w - 16),
                  font=_font(n.label_px),
                  fill=_rgb(TEXT))
        draw.text(((n.x + 8) * s, (n.y + 26) * s), _fit(n.type, TYPE_PX, w - 16), font=_font(TYPE_PX),
                  fill=_rgb(SUBTLE))
    # zlib level 1: 5x faster than 9, 25% larger
    if executor is None:
        image.save(path, format="PNG", compress_level=1)
        return None
    return executor.submit(image.save, path, format="PNG", compress_level=1)


def write_diagram(stack: StackEvidence, svg_path: Path, png_path: Path,
                  executor: Executor | None = None) -> Future | None:
    """Both pictures of one stack; with ``executor``, the PNG is written when the returned future is done."""
    lay = layout(stack)
    svg_path.write_text(render_svg(lay), encoding="utf-8")
    return render_png(lay, png_path, executor)
