"""Text for people about plan files: what a plan holds, what a run did, how far a plan is."""

from __future__ import annotations

from ..output import format_table
from .engines import ShardSummary
from .planfile import PlanFile
from .status import PlanStatus


def format_planfile(pf: PlanFile) -> str:
    failed = [i for i in pf.items if i.state == "failed"]
    needed = sum(i.needed for i in pf.items if i.state == "todo")
    lines = [
        f"plan {pf.plan_id}: {len(pf.items)} files ({needed:,} bytes) from {pf.source} "
        f"into {pf.to}; written to {pf.path}",
        f"  {len({i.file_id for i in pf.items})} samples, {len(set(pf.buckets))} interactions",
    ]
    if failed or pf.unknown:
        lines.append(f"  {len(failed) + len(pf.unknown)} cannot be had (see `status` after a run)")
    return "\n".join(lines)


def format_run(summaries: list[ShardSummary]) -> str:
    if not summaries:
        return "nothing to do: every item of the plan is done"
    rows = [
        (
            f"{s.shard[0]}/{s.shard[1]}",
            s.delivered,
            s.skipped,
            s.failed,
            s.bytes,
            "did not run" if s.error else "failures" if s.failed else "ok",
        )  # fmt: skip
        for s in summaries
    ]
    head = ["shard", "delivered", "present", "failed", "bytes", "state"]
    lines = [format_table(head, rows)]
    total = (sum(s.delivered for s in summaries), sum(s.skipped for s in summaries),
             sum(s.failed for s in summaries), sum(s.bytes for s in summaries))  # fmt: skip
    lines.append(
        f"{total[0]} delivered, {total[1]} already present, {total[2]} failed; "
        f"{total[3]:,} bytes transferred"
    )
    failures = [f for s in summaries for f in s.failures]
    if failures:
        lines.append("not delivered:")
        lines += [f"  {what}: {why}" for what, why in failures]
    errors = [s for s in summaries if s.error]
    lines += [f"shard {s.shard[0]}/{s.shard[1]} did not run: {s.error}" for s in errors]
    if failures or errors:
        lines.append("rerun `materialize retry --plan PLAN` to try these again")
    return "\n".join(lines)


def format_status(st: PlanStatus) -> str:
    head = ["shard", "items", "done", "failed", "missing", "bytes done", "bytes failed",
            "bytes missing"]  # fmt: skip
    rows = [
        (
            f"{k}/{st.n}",
            c.items,
            c.done,
            c.failed,
            c.missing,
            c.bytes_done,
            c.bytes_failed,
            c.bytes_missing,
        )  # fmt: skip
        for k, c in sorted(st.shards.items())
    ]
    t = st.total
    rows.append(("total", t.items, t.done, t.failed, t.missing, t.bytes_done, t.bytes_failed,
                 t.bytes_missing))  # fmt: skip
    lines = [f"plan {st.plan_id} into {st.to}: {st.receipts} receipts", format_table(head, rows)]
    lines += [f"  failed {what}: {why}" for what, why in st.failures]
    return "\n".join(lines)
