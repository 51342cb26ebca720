"""The authorization boundary of one stack, as an assessor reads it: SVG and PNG drawn from the template.

What is drawn comes from the template only: the clients and their networks (the CIDRs the endpoint
security group admits), the interface endpoints and their port, the isolated VPC, model access, the
audit plane (trail, Object-Locked buckets with mode and days, log groups with retention, invocation
logging), the KMS keys, and the organization policies when the stack has them. Amazon Bedrock (runtime,
Mantle, the guardrail it applies) and AWS CloudTrail are AWS-managed services outside the VPC. Arrows
are data flows (requests, logs), labelled with what flows. CDK internals (custom-resource providers,
their functions, roles and queues, route tables) are counted in one group, not drawn one by one; every
resource of the template is either drawn or counted (``Scene.accounted``).

No Graphviz: a fixed layout computed once and drawn twice, so the SVG and the PNG show the same picture.
The PNG uses Pillow's bundled font, so it is the same bytes on every machine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path
from xml.sax.saxutils import escape

from ..compliance.template import as_list, possible_strings
from .assembly import StackEvidence
from .components import component_members, configures_invocation_logging
from .destinations import data_destinations

BOUNDARY = "#c0392b"
REGION = "#6b7785"
EDGE = "#37424d"
TEXT, SUBTLE = "#1b1f23", "#55606a"
PALETTE = {
    "clients": ("#1f6fb2", "#e8f1fa"), "network": ("#1f6fb2", "#eef5fc"), "access": ("#b23b1f", "#fbece8"),
    "audit": ("#2b7a3d", "#e9f5ec"), "keys": ("#a07400", "#fbf4e3"), "aws": ("#6b3fa0", "#f1ebf8"),
    "helpers": ("#505a64", "#eef0f2"), "org": ("#7a4b00", "#fff7e6"),
}
TITLE_PX, BOX_PX, NODE_PX, LINE_PX, EDGE_PX = 20, 14, 12, 11, 11
EM = 0.58  # width per character, as a fraction of the font size
NODE_H, NODE_GAP, PAD, BOX_TITLE = 40, 10, 12, 28
WIDTH = 1800


@dataclass
class Node:
    id: str
    title: str
    detail: str
    #: Column in a box of two: 1 (right, towards the AWS services) for what they deliver into.
    col: int = 0
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = NODE_H


@dataclass
class Box:
    id: str
    title: str
    palette: str
    x: float
    y: float
    w: float
    h: float = 0.0
    dashed: bool = False
    lines: list[str] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)


@dataclass
class Edge:
    src: str
    dst: str
    label: str
    dashed: bool = False


@dataclass
class Scene:
    title: str
    subtitle: str
    width: int
    height: int
    boxes: list[Box]
    edges: list[Edge]
    #: Resources drawn as a node or counted in a group: every resource of the template.
    accounted: int


def _fit(text: str, px: int, width: float) -> str:
    limit = max(4, int(width / (px * EM)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _literal(value: object) -> list[str]:
    return sorted(s for s in possible_strings(value) if "<" not in s)


def _place(box: Box, columns: int = 1) -> None:
    """Lines first, then nodes in ``columns`` (each node in its ``col``); sets the box's height."""
    y = box.y + BOX_TITLE + len(box.lines) * (LINE_PX + 6) + (6 if box.lines else 0)
    width = (box.w - 2 * PAD - (columns - 1) * PAD) / columns
    rows = [0] * columns
    for node in box.nodes:
        col = min(node.col, columns - 1)
        node.x, node.y, node.w = box.x + PAD + col * (width + PAD), y + rows[col] * (NODE_H + NODE_GAP), width
        rows[col] += 1
    most = max(rows) if rows else 0
    box.h = y - box.y + most * (NODE_H + NODE_GAP) + PAD - (NODE_GAP if most else 0)


def build_scene(stack: StackEvidence) -> Scene:
    """Everything the picture shows, placed; read from ``stack``'s template only."""
    res = {r.logical_id: r for r in stack.resources}
    members = component_members(stack)
    model_access = set(members["model-access"])
    drawn: set[str] = set()
    label = stack.label

    # --- facts ----------------------------------------------------------------------------------
    vpcs = [r for r in res.values() if r.type == "AWS::EC2::VPC"]
    endpoints = [r for r in res.values() if r.type == "AWS::EC2::VPCEndpoint"]
    groups = {r.logical_id: r for r in res.values() if r.type == "AWS::EC2::SecurityGroup"}
    ingress: list[tuple[str, str, str, str]] = []  # (cidr, protocol, ports, the security group admitting it)
    for r in res.values():
        rules = (as_list(r.properties.get("SecurityGroupIngress")) if r.type == "AWS::EC2::SecurityGroup"
                 else [r.properties] if r.type == "AWS::EC2::SecurityGroupIngress" else [])
        group = r.logical_id if r.type == "AWS::EC2::SecurityGroup" else next(iter(stack.references(r.logical_id)), "")
        for rule in (x for x in rules if isinstance(x, dict)):
            ports = str(rule.get("FromPort")) if rule.get("FromPort") == rule.get("ToPort") \
                else f"{rule.get('FromPort')}-{rule.get('ToPort')}"
            for cidr in _literal(rule.get("CidrIp") or rule.get("CidrIpv6")) or ["(a security group)"]:
                ingress.append((cidr, str(rule.get("IpProtocol", "")).upper(), ports, group))
    ingress = sorted(set(ingress))
    subnets = [r for r in res.values() if r.type == "AWS::EC2::Subnet"]
    gateways = [r for r in res.values() if r.type in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway")]
    flow_logs = [r for r in res.values() if r.type == "AWS::EC2::FlowLog"]
    trails = [r for r in res.values() if r.type == "AWS::CloudTrail::Trail"]
    buckets = [r for r in res.values() if r.type == "AWS::S3::Bucket"]
    log_groups = [r for r in res.values() if r.type == "AWS::Logs::LogGroup"]
    keys = [r for r in res.values() if r.type == "AWS::KMS::Key"]
    guardrails = [r for r in res.values() if r.type == "AWS::Bedrock::Guardrail"]
    invocation = [r for r in res.values() if configures_invocation_logging(r)]
    mantle = [r for r in res.values() if r.type.startswith("AWS::BedrockMantle::")]
    #: Organization policies and what deploys the per-account baseline with them.
    org = [r for r in res.values() if r.type.startswith("AWS::Organizations::")
           or r.type in ("AWS::CloudFormation::StackSet", "AWS::Bedrock::ResourcePolicy")]
    drawn.update(r.logical_id for r in org)
    policies = [r for r in res.values() if r.logical_id in model_access and r.type != "AWS::IAM::Role"]
    roles = [r for r in res.values() if r.logical_id in model_access and r.type == "AWS::IAM::Role"]

    # --- boxes ----------------------------------------------------------------------------------
    top = 96 if not org else 150
    region_x, region_w = 300, WIDTH - 320
    inner_x, inner_w = region_x + 20, 1010
    half = (inner_w - 3 * 20) / 2
    aws_x = inner_x + inner_w + 30
    aws_w = region_x + region_w - aws_x - 20

    clients = Box("clients", "Clients", "clients", 30, top + 60, 240, lines=["outside the boundary"])
    for cidr in sorted({c for c, *_ in ingress}):
        admitted = ", ".join(sorted({f"{p} {ports}" for c, p, ports, _ in ingress if c == cidr}))
        clients.nodes.append(Node(f"client:{cidr}", cidr, f"network admitted: {admitted}"))
    if not ingress:
        clients.lines.append("No client network admitted by the template")

    vpc = Box("vpc", "Isolated VPC " + ", ".join(c for v in vpcs for c in _literal(v.properties.get("CidrBlock")))
              if vpcs else "Network (no VPC in this template)", "network", inner_x + 20, top + 70, half)
    if vpcs:
        vpc.lines.append(f"{len(subnets)} subnets; {'no' if not gateways else len(gateways)} internet/NAT gateway")
        closed = any(r.type == "Custom::VpcRestrictDefaultSG" for r in res.values())
        vpc.lines.append(f"flow logs: {'on' if flow_logs else 'off'}; default security group "
                         + ("closed by the stack" if closed else "not closed by the stack"))
    for sg in groups.values():
        admitted = sorted({f"{p} {ports} from {c}" for c, p, ports, g in ingress if g == sg.logical_id})
        vpc.lines.append(f"SG {label(sg.logical_id).split('/')[-1]}: " + ("; ".join(admitted) or "no ingress"))
        drawn.add(sg.logical_id)
    for r in vpcs + subnets + flow_logs + gateways:
        drawn.add(r.logical_id)
    for ep in endpoints:
        service = ", ".join(n.rsplit(".", 1)[-1] for n in _literal(ep.properties.get("ServiceName"))) or "endpoint"
        dns = "private DNS, " if ep.properties.get("PrivateDnsEnabled") is True else ""
        policy = "endpoint policy" if ep.properties.get("PolicyDocument") else "no endpoint policy"
        vpc.nodes.append(Node(ep.logical_id, f"{service} endpoint", f"interface, {dns}{policy}, TCP 443"))
        drawn.add(ep.logical_id)
    # On-premises DNS forwards the endpoints' names here (docs/codex.md): in the data path, not a helper.
    resolvers = [r for r in res.values() if r.type == "AWS::Route53Resolver::ResolverEndpoint"]
    for resolver in resolvers:
        zones = len(as_list(resolver.properties.get("IpAddresses")))
        vpc.nodes.append(Node(resolver.logical_id, f"Route 53 Resolver {str(resolver.properties.get('Direction', '')).lower()}"
                              " endpoint", f"DNS (TCP/UDP 53) from the admitted forwarders, {zones} addresses"))
        drawn.add(resolver.logical_id)
    drawn.update(r.logical_id for r in res.values() if r.type.startswith("AWS::Route53Resolver::ResolverQueryLogging"))

    access = Box("access", "Model access (IAM)", "access", inner_x + 40 + half, top + 70, half)
    for p in policies:
        models = sorted({s.split("/", 1)[1] for st in as_list((p.properties.get("PolicyDocument") or {})
                                                               .get("Statement"))
                         if isinstance(st, dict) and st.get("Effect") == "Allow"
                         for x in as_list(st.get("Resource")) for s in _literal(x)
                         if ":foundation-model/" in s or ":inference-profile/" in s})
        access.nodes.append(Node(p.logical_id, label(p.logical_id), ("invoke " + ", ".join(models)) if models
                                 else p.type.split("::")[-1]))
        drawn.add(p.logical_id)
    if not policies:
        access.lines.append("No model-access policy in this template")
    if roles:
        access.lines.append(f"{len(roles)} role(s) attach it: " + ", ".join(label(r.logical_id) for r in roles))
        drawn.update(r.logical_id for r in roles)

    _place(vpc)
    _place(access)
    audit = Box("audit", "Audit plane (records kept under Object Lock)", "audit", inner_x + 20,
                max(vpc.y + vpc.h, access.y + access.h) + 24, inner_w - 40)
    # What AWS services deliver into goes in the right column, next to them.
    delivered = {d for r in trails + invocation for d in stack.references(r.logical_id)}
    for t in trails:
        p = t.properties
        flags = [name for name, key in (("multi-region", "IsMultiRegionTrail"), ("log-file validation",
                                        "EnableLogFileValidation"), ("logging", "IsLogging")) if p.get(key) is True]
        audit.nodes.append(Node(t.logical_id, f"Trail {label(t.logical_id)}", ", ".join(flags) or "no flags"))
    for b in buckets:
        p = b.properties
        rule = ((p.get("ObjectLockConfiguration") or {}).get("Rule") or {}).get("DefaultRetention") or {}
        period = f"{rule['Days']} days" if rule.get("Days") else f"{rule['Years']} years" if rule.get("Years") else ""
        detail = (f"Object Lock {rule.get('Mode')} {period}" if p.get("ObjectLockEnabled") is True and rule
                  else "no Object Lock")
        audit.nodes.append(Node(b.logical_id, f"Bucket {label(b.logical_id)}", detail,
                                col=int(b.logical_id in delivered)))
    for g in log_groups:
        days = g.properties.get("RetentionInDays")
        audit.nodes.append(Node(g.logical_id, f"Log group {label(g.logical_id)}",
                                f"retention {days} days" if days else "retention: never expires",
                                col=int(g.logical_id in delivered)))
    for r in invocation:
        audit.nodes.append(Node(r.logical_id, "Model invocation logging", "account setting, by a custom resource"))
    for r in trails + buckets + log_groups + invocation:
        drawn.add(r.logical_id)
    flow_dest = {d for f in flow_logs for d in stack.references(f.logical_id)}
    audit.nodes.sort(key=lambda n: n.id not in flow_dest)  # nearest the VPC above: a short arrow
    drawn.update(r.logical_id for r in res.values() if r.type == "AWS::S3::BucketPolicy")
    if buckets or log_groups or trails:
        audit.lines.append(f"{len(keys)} KMS key(s) encrypt these (below); bucket policies: see the matrix")
    else:
        audit.lines.append("No audit resource in this template")
    _place(audit, 2)

    key_box = Box("keys", "KMS keys (customer managed)", "keys", inner_x + 20, audit.y + audit.h + 24, half)
    for k in keys:
        rotation = "rotation on" if k.properties.get("EnableKeyRotation") is True else "rotation off"
        key_box.nodes.append(Node(k.logical_id, label(k.logical_id), rotation))
        drawn.add(k.logical_id)
    drawn.update(r.logical_id for r in res.values() if r.type == "AWS::KMS::Alias")
    _place(key_box)

    aws = Box("aws", "AWS-managed services (outside the VPC)", "aws", aws_x, top + 70, aws_w)
    services = {n for ep in endpoints for s in _literal(ep.properties.get("ServiceName")) for n in [s.rsplit(".", 1)[-1]]}
    runtime = sorted(s for s in services if "runtime" in s) or ["bedrock-runtime"]
    aws.nodes.append(Node("bedrock-runtime", "Amazon Bedrock runtime", f"{', '.join(runtime)}: model invocation"))
    if any(s.startswith("bedrock") and "runtime" not in s and "mantle" not in s for s in services):
        aws.nodes.append(Node("bedrock-control", "Amazon Bedrock control plane", "bedrock API"))
    if mantle or any("mantle" in s for s in services):
        aws.nodes.append(Node("bedrock-mantle", "Amazon Bedrock Mantle", f"{len(mantle)} project(s) in this stack"))
        drawn.update(r.logical_id for r in mantle)
    for g in guardrails:
        name = ", ".join(_literal(g.properties.get("Name"))) or label(g.logical_id)
        aws.nodes.append(Node(g.logical_id, f"Guardrail {name}", "applied by Bedrock, configured here"))
        drawn.add(g.logical_id)
    drawn.update(r.logical_id for r in res.values() if r.type == "AWS::Bedrock::GuardrailVersion")
    if trails:
        aws.nodes.append(Node("cloudtrail", "AWS CloudTrail", "records API calls, delivers log files"))
    granted = data_destinations(stack)
    if granted and not any(e["outside_source_region"] is None or e["outside_source_region"] for e in granted):
        aws.lines.append(f"inference stays in {stack.region or 'this region'}: no model is routed elsewhere")
    _place(aws)

    rest = [r for r in res.values() if r.logical_id not in drawn]
    kinds = Counter(r.type.split("::", 1)[-1] for r in rest)
    helpers = Box("helpers", f"Deployment helpers ({len(rest)}, not in the data path)",
                  "helpers", inner_x + 40 + half, audit.y + audit.h + 24, half)
    helpers.lines = [f"{n} x {t}" for t, n in sorted(kinds.items())] or ["none"]
    _place(helpers)

    _place(clients)
    boundary_h = max(key_box.y + key_box.h, helpers.y + helpers.h, aws.y + aws.h - 10,
                     clients.y + clients.h - 40) + 20 - (top + 40)
    boundary = Box("boundary", "Authorization boundary: this stack's resources"
                   + (f" (account {stack.account})" if stack.account else ""), "org", inner_x, top + 40, inner_w,
                   boundary_h, dashed=True)
    region = Box("region", f"AWS Region {stack.region or '(deploy-time region)'}", "helpers", region_x, top,
                 region_w, boundary_h + 60)
    boxes = [region, boundary, clients, vpc, access, audit, key_box, helpers, aws]
    if org:
        org_box = Box("org", "Organization policies around the account", "org", 20, 84, WIDTH - 40,
                      region.h + top - 84 + 16, dashed=True)
        org_box.lines = [", ".join(f"{label(r.logical_id)} ({r.properties.get('Type', r.type.split('::')[-1])})"
                                   for r in org)]
        boxes.insert(0, org_box)

    edges: list[Edge] = []
    # Each admitted network to what its security group fronts: the endpoints (HTTPS) or an inbound resolver (DNS).
    for cidr, group, ports in sorted({(c, g, ports) for c, _, ports, g in ingress}):
        for target in endpoints + resolvers:
            if group in stack.references(target.logical_id):
                kind = "DNS" if target in resolvers else "HTTPS TCP"
                edges.append(Edge(f"client:{cidr}", target.logical_id, f"{kind} {ports}"))
    for ep in endpoints:
        services_of = [s.rsplit(".", 1)[-1] for s in _literal(ep.properties.get("ServiceName"))]
        target = ("bedrock-mantle" if any("mantle" in s for s in services_of) else
                  "bedrock-runtime" if any("runtime" in s for s in services_of) else "bedrock-control")
        if any(n.id == target for n in aws.nodes):
            edges.append(Edge(ep.logical_id, target, "PrivateLink"))
    for r in invocation:
        for dest in log_groups + buckets:
            if dest.logical_id in stack.references(r.logical_id):
                edges.append(Edge("bedrock-runtime", dest.logical_id, "invocation logs"))
    for t in trails:
        for dest in buckets + log_groups:
            if dest.logical_id in stack.references(t.logical_id):
                edges.append(Edge("cloudtrail", dest.logical_id, "trail log files" if dest in buckets else "trail events"))
    for f in flow_logs:
        for dest in log_groups:
            if dest.logical_id in stack.references(f.logical_id):
                edges.append(Edge("box:vpc", dest.logical_id, "VPC flow logs", dashed=True))
    away = _destinations_box(granted, stack.region, max(b.y + b.h for b in boxes) + 24, aws_x - 60)
    if away is not None:
        boxes.append(away)
        edges.append(Edge("bedrock-runtime", "box:destinations", "prompts and completions (cross-region inference)",
                          dashed=any(e["uncertain"] for e in granted if e["outside_source_region"] != [])))
    height = int((away.y + away.h if away else region.y + region.h) + 30)
    where = f" ({stack.region})" if stack.region else ""
    return Scene(
        title=f"{stack.name}{where}: authorization boundary and data flows",
        subtitle="Pre-deployment evidence drawn from the synthesized template (not a scan of deployed resources). "
                 "Arrows: data flows. Red dashed: the authorization boundary.",
        width=WIDTH, height=height, boxes=boxes, edges=sorted(edges, key=lambda e: (e.src, e.dst, e.label)),
        accounted=len(drawn) + len(rest),
    )


def _destinations_box(granted: list[dict], home: str | None, y: float, width: float) -> Box | None:
    """The other AWS Regions where the granted models may process prompts (cross-region inference profiles), from
    the model catalog: outside this Region and outside the authorization boundary. None when there are none."""
    regions: dict[str, list[str]] = {}
    for e in granted:
        outside = ["any commercial AWS region"] if e["outside_source_region"] is None else e["outside_source_region"]
        for region in outside:
            regions.setdefault(region, []).append(e["model"] + (" (UNCERTAIN)" if e["uncertain"] else ""))
    if not regions:
        return None
    box = Box("destinations", "Other AWS Regions where prompts and completions may be processed (cross-region "
              "inference; outside this Region and the boundary)", "aws", 30, y, width, dashed=True)
    box.lines.append(f"From the model catalog for the profiles granted in {home or 'this region'}; dashed arrow: a "
                     "destination set the catalog marks UNCERTAIN" if any(e["uncertain"] for e in granted)
                     else f"From the model catalog for the profiles granted in {home or 'this region'}")
    columns = min(4, len(regions))
    for i, (region, models) in enumerate(sorted(regions.items())):
        box.nodes.append(Node(f"region:{region}", region, ", ".join(models), col=i % columns))
    _place(box, columns)
    return box


# ---------------------------------------------------------------------------------------------
# Geometry shared by both renderers


def _nodes(scene: Scene) -> dict[str, Node]:
    """Nodes by id, and each box as ``box:<id>`` (an edge may start at a whole box)."""
    found = {f"box:{b.id}": Node(f"box:{b.id}", b.title, "", x=b.x, y=b.y, w=b.w, h=b.h) for b in scene.boxes}
    found.update({n.id: n for b in scene.boxes for n in b.nodes})
    return found


def _curve(scene: Scene, edge: Edge) -> tuple[tuple[float, float], ...]:
    nodes = _nodes(scene)
    a, b = nodes[edge.src], nodes[edge.dst]
    ay, by = a.y + a.h / 2, b.y + b.h / 2
    if a.x + a.w <= b.x:
        p0, p1 = (a.x + a.w, ay), (b.x, by)
    elif b.x + b.w <= a.x:
        p0, p1 = (a.x, ay), (b.x + b.w, by)
    elif edge.src.startswith("box:"):  # a whole box to what sits below it: down its left side
        reach = 14
        return (a.x, a.y + a.h - 12), (a.x - reach, a.y + a.h), (b.x - reach, by), (b.x, by)
    else:  # same column: out of the right side and back
        reach = 40 + abs(by - ay) / 6
        return (a.x + a.w, ay), (a.x + a.w + reach, ay), (b.x + b.w + reach, by), (b.x + b.w, by)
    dx = (p1[0] - p0[0]) * 0.45
    return p0, (p0[0] + dx, p0[1]), (p1[0] - dx, p1[1]), p1


def _point(p: tuple[tuple[float, float], ...], t: float) -> tuple[float, float]:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = p
    u = 1 - t
    return (u**3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t**3 * x3,
            u**3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t**3 * y3)


def _arrow_head(p: tuple[tuple[float, float], ...], size: float = 9) -> list[tuple[float, float]]:
    (_, _), (_, _), (cx, cy), (x, y) = p
    dx, dy = x - cx, y - cy
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    ux, uy = dx / length, dy / length
    return [(x, y), (x - size * ux + size * 0.5 * uy, y - size * uy - size * 0.5 * ux),
            (x - size * ux - size * 0.5 * uy, y - size * uy + size * 0.5 * ux)]


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _label_at(scene: Scene, edge: Edge) -> tuple[float, float]:
    """Mid-way; near the destination for flows out of an AWS service (they fan out from one point)."""
    t = 0.82 if edge.src in ("bedrock-runtime", "cloudtrail") else 0.25 if edge.src.startswith("box:") else 0.5
    return _point(_curve(scene, edge), t)


# ---------------------------------------------------------------------------------------------
# SVG


def render_svg(scene: Scene) -> str:
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{scene.width}" height="{scene.height}" '
        f'viewBox="0 0 {scene.width} {scene.height}" font-family="DejaVu Sans, Verdana, Arial, sans-serif">',
        f"<title>{escape(scene.title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{EDGE}"/></marker></defs>',
        f'<rect x="0" y="0" width="{scene.width}" height="{scene.height}" fill="#ffffff"/>',
        f'<text x="28" y="38" font-size="{TITLE_PX}" font-weight="bold" fill="{TEXT}">{escape(scene.title)}</text>',
        f'<text x="28" y="62" font-size="{LINE_PX + 1}" fill="{SUBTLE}">{escape(scene.subtitle)}</text>',
    ]
    for box in scene.boxes:
        stroke, fill = (BOUNDARY, "#ffffff") if box.id == "boundary" else (REGION, "#fafbfc") \
            if box.id == "region" else PALETTE[box.palette]
        dash = ' stroke-dasharray="10 6"' if box.dashed else ""
        width = 2.5 if box.id == "boundary" else 1.5
        out.append(f'<g class="box" id="box-{box.id}"><rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" '
                   f'height="{_n(box.h)}" rx="10" fill="{fill}" stroke="{stroke}" stroke-width="{width}"{dash}/>'
                   f'<text x="{_n(box.x + PAD)}" y="{_n(box.y + 20)}" font-size="{BOX_PX}" font-weight="bold" '
                   f'fill="{stroke}">{escape(_fit(box.title, BOX_PX, box.w - 2 * PAD))}</text>')
        for i, line in enumerate(box.lines):
            out.append(f'<text x="{_n(box.x + PAD)}" y="{_n(box.y + BOX_TITLE + 12 + i * (LINE_PX + 6))}" '
                       f'font-size="{LINE_PX}" fill="{SUBTLE}">{escape(_fit(line, LINE_PX, box.w - 2 * PAD))}</text>')
        out.append("</g>")
    for edge in scene.edges:
        p = _curve(scene, edge)
        d = (f"M{_n(p[0][0])},{_n(p[0][1])} C{_n(p[1][0])},{_n(p[1][1])} {_n(p[2][0])},{_n(p[2][1])} "
             f"{_n(p[3][0])},{_n(p[3][1])}")
        dash = ' stroke-dasharray="6 4"' if edge.dashed else ""
        lx, ly = _label_at(scene, edge)
        out.append(f'<g class="flow"><path class="edge" d="{d}" fill="none" stroke="{EDGE}" stroke-width="1.5"'
                   f'{dash} marker-end="url(#arrow)"><title>{escape(edge.src)} -&gt; {escape(edge.dst)}</title></path>'
                   f'<text x="{_n(lx)}" y="{_n(ly - 4)}" font-size="{EDGE_PX}" fill="{EDGE}" text-anchor="middle" '
                   f'paint-order="stroke" stroke="#ffffff" stroke-width="3">{escape(edge.label)}</text></g>')
    for box in scene.boxes:
        stroke, _ = PALETTE.get(box.palette, (REGION, ""))
        for node in box.nodes:
            out.append(
                f'<g class="node" id="{escape(node.id)}"><rect x="{_n(node.x)}" y="{_n(node.y)}" width="{_n(node.w)}" '
                f'height="{node.h}" rx="6" fill="#ffffff" stroke="{stroke}" stroke-width="1.3"/>'
                f'<text x="{_n(node.x + 8)}" y="{_n(node.y + 16)}" font-size="{NODE_PX}" fill="{TEXT}">'
                f"{escape(_fit(node.title, NODE_PX, node.w - 16))}</text>"
                f'<text x="{_n(node.x + 8)}" y="{_n(node.y + 32)}" font-size="{LINE_PX}" fill="{SUBTLE}">'
                f"{escape(_fit(node.detail, LINE_PX, node.w - 16))}</text></g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# PNG (Pillow draws the same scene)

#: Pixels per layout unit: crisp text at 1.5x, and a PNG that encodes in ~0.1 s.
SCALE = 1.5


@cache
def _font(px: int):  # -> PIL.ImageFont.FreeTypeFont
    from PIL import ImageFont

    return ImageFont.load_default(size=round(px * SCALE))


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _dashed(draw, points: Sequence[tuple[float, float]], fill, width: int, on: float = 10, off: float = 6) -> None:
    """A dashed polyline (Pillow has none)."""
    carry, drawing = 0.0, True
    for (x0, y0), (x1, y1) in pairwise(points):
        length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
        pos = 0.0
        while pos < length:
            step = min((on if drawing else off) - carry, length - pos)
            if drawing:
                t0, t1 = pos / length, (pos + step) / length
                draw.line([(x0 + (x1 - x0) * t0, y0 + (y1 - y0) * t0), (x0 + (x1 - x0) * t1, y0 + (y1 - y0) * t1)],
                          fill=fill, width=width)
            pos += step
            carry += step
            if carry >= (on if drawing else off):
                carry, drawing = 0.0, not drawing


def render_png(scene: Scene, path: Path, executor: Executor | None = None) -> Future | None:
    """Draw here; encode and write here too, or on ``executor`` (then the future says when it is written)."""
    from PIL import Image, ImageDraw

    s = SCALE
    image = Image.new("RGB", (round(scene.width * s), round(scene.height * s)), "white")
    draw = ImageDraw.Draw(image)

    def sc(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * s, y * s) for x, y in points]

    draw.text((28 * s, 20 * s), scene.title, font=_font(TITLE_PX), fill=_rgb(TEXT))
    draw.text((28 * s, 50 * s), scene.subtitle, font=_font(LINE_PX + 1), fill=_rgb(SUBTLE))
    for box in scene.boxes:
        stroke, fill = (BOUNDARY, "#ffffff") if box.id == "boundary" else (REGION, "#fafbfc") \
            if box.id == "region" else PALETTE[box.palette]
        rect = [box.x * s, box.y * s, (box.x + box.w) * s, (box.y + box.h) * s]
        width = max(1, round((2.5 if box.id == "boundary" else 1.5) * s))
        if box.dashed:
            draw.rounded_rectangle(rect, radius=10 * s, fill=_rgb(fill))
            x0, y0, x1, y1 = rect
            _dashed(draw, [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)], _rgb(stroke), width, 10 * s, 6 * s)
        else:
            draw.rounded_rectangle(rect, radius=10 * s, fill=_rgb(fill), outline=_rgb(stroke), width=width)
        draw.text(((box.x + PAD) * s, (box.y + 7) * s), _fit(box.title, BOX_PX, box.w - 2 * PAD), font=_font(BOX_PX),
                  fill=_rgb(stroke))
        for i, line in enumerate(box.lines):
            draw.text(((box.x + PAD) * s, (box.y + BOX_TITLE + 2 + i * (LINE_PX + 6)) * s),
                      _fit(line, LINE_PX, box.w - 2 * PAD), font=_font(LINE_PX), fill=_rgb(SUBTLE))
    edge_rgb = _rgb(EDGE)
    for edge in scene.edges:
        p = _curve(scene, edge)
        points = sc([_point(p, i / 28) for i in range(29)])
        if edge.dashed:
            _dashed(draw, points, edge_rgb, max(1, round(1.5 * s)), 6 * s, 4 * s)
        else:
            draw.line(points, fill=edge_rgb, width=max(1, round(1.5 * s)), joint="curve")
        draw.polygon(sc(_arrow_head(p)), fill=edge_rgb)
    for box in scene.boxes:
        stroke, _ = PALETTE.get(box.palette, (REGION, ""))
        for node in box.nodes:
            draw.rounded_rectangle([node.x * s, node.y * s, (node.x + node.w) * s, (node.y + node.h) * s],
                                   radius=6 * s, fill="white", outline=_rgb(stroke), width=max(1, round(1.3 * s)))
            draw.text(((node.x + 8) * s, (node.y + 4) * s), _fit(node.title, NODE_PX, node.w - 16),
                      font=_font(NODE_PX), fill=_rgb(TEXT))
            draw.text(((node.x + 8) * s, (node.y + 21) * s), _fit(node.detail, LINE_PX, node.w - 16),
                      font=_font(LINE_PX), fill=_rgb(SUBTLE))
    for edge in scene.edges:  # labels last, on a white patch, so lines never hide them
        lx, ly = _label_at(scene, edge)
        font = _font(EDGE_PX)
        left, top, right, bottom = draw.textbbox((lx * s, (ly - 4) * s), edge.label, font=font, anchor="ms")
        draw.rectangle([left - 3, top - 2, right + 3, bottom + 2], fill="white")
        draw.text((lx * s, (ly - 4) * s), edge.label, font=font, fill=edge_rgb, anchor="ms")
    if executor is None:
        image.save(path, format="PNG", compress_level=1)  # zlib level 1: 5x faster than 9, 25% larger
        return None
    return executor.submit(image.save, path, format="PNG", compress_level=1)


def write_diagram(stack: StackEvidence, svg_path: Path, png_path: Path,
                  executor: Executor | None = None) -> Future | None:
    """Both pictures of one stack; with ``executor``, the PNG is written when the returned future is done."""
    scene = build_scene(stack)
    svg_path.write_text(render_svg(scene), encoding="utf-8")
    return render_png(scene, png_path, executor)
