"""Text for people: the plan of a dry run and the summary of a run."""

from __future__ import annotations

from ..output import format_table
from .plan import Plan
from .run import MaterializeResult


def plan_totals(plan: Plan) -> dict[str, object]:
    samples = {i.file_id for i in plan.todo}
    needed = plan.bytes_needed
    return {
        "files": len(plan.items),
        "to fetch": len(plan.todo),
        "present": sum(1 for i in plan.items if i.state == "present"),
        "unavailable": sum(1 for i in plan.items if i.state == "failed"),
        "bytes needed": needed,
        "bytes fetched": plan.bytes_to_fetch,
        "requests": plan.n_requests,
        "requests per sample": round(plan.n_requests / len(samples), 3) if samples else 0,
        "fetched/needed": round(plan.bytes_to_fetch / needed, 4) if needed else 0,
    }


def format_plan(plan: Plan) -> str:
    rows = []
    for i in plan.items:
        state = {"present": "present, verified", "failed": f"unavailable: {i.reason}"}.get(
            i.state, f"resume at {i.partial}" if i.partial else "to fetch"
        )
        n = i.needed - i.partial if i.state == "todo" else 0
        rows.append((i.dest, n, plan.requests_of(i), _where(i), state))
    table = format_table(["file", "bytes", "requests", "source", "state"], rows)
    totals = "\n".join(f"{k}: {v}" for k, v in plan_totals(plan).items())
    return f"plan ({plan.layout} source {plan.source}):\n{table}\n{totals}"


def _where(item) -> str:
    if len(item.parts) == 1:
        p = item.parts[0]
        return f"{p.key}@{p.offset}+{p.length}" if item.kind == "member" else p.key
    return f"{len(item.parts)} objects"


def format_summary(r: MaterializeResult) -> str:
    lines = [
        f"{r.count('delivered')} delivered, {r.count('skipped')} already present, "
        f"{r.count('failed')} failed; {r.bytes_fetched:,} bytes transferred",
    ]
    if r.receipt is not None:
        lines.append(f"receipt: {r.receipt}")
    if r.failures:
        lines.append("not delivered:")
        lines += [f"  {o.path or o.file_id}: {o.reason}" for o in r.failures]
        lines.append("rerun with --retry-failed to try these again")
    return "\n".join(lines)
