"""Text for people: summaries of ingest and stats, the plan of a dry run, the summary of a
run, what a plan file holds, what its shards did, how far it is."""

from __future__ import annotations

from ..materialize.planning.items import Plan
from ..materialize.planning.planfile import PlanFile
from ..materialize.running.engines import ShardSummary
from ..materialize.running.partial import PartialArchive
from ..materialize.running.runner import NOT_IN_CATALOG, MaterializeResult
from ..materialize.running.status import PlanStatus
from .output import format_table


def format_ingest(r) -> str:
    lines = [
        f"snapshot {r.snapshot} (run {r.run_id}): {r.n_units_parsed} units parsed, "
        f"{r.n_units_unchanged} unchanged, {r.n_units_removed} removed",
        "rows written: " + (", ".join(f"{k} {v:,}" for k, v in r.rows.items()) or "none"),
    ]
    if r.n_errors or r.n_warnings:
        lines.append(f"{r.n_errors} records quarantined, {r.n_warnings} warnings; first ones:")
        lines += [f"  {loc}: {reason}" for loc, reason in r.issues]
        lines.append("all of them: select * from raw.ingest_issues")
    return "\n".join(lines)


def format_columns(columns: list[tuple[str, str]]) -> str:
    return format_table(["column", "type"], columns).rstrip()


def format_stats(s) -> str:
    width = max(len(k) for k in s.totals)
    lines = [f"snapshot {s.snapshot}", ""]
    lines += [f"{k:<{width}}  {v}" for k, v in s.totals.items()]
    lines += ["", format_table(*s.by_split).rstrip(), "", "table rows:"]
    lines += [f"  {k:<20} {v:,}" for k, v in s.table_rows.items()]
    issues = ", ".join(f"{n} {sev}" for sev, n in s.issues.items()) or "none"
    lines.append(f"ingest issues: {issues}")
    return "\n".join(lines)


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


def human_bytes(n: int | None) -> str:
    """``4.2 MB``: decimal units, as disks and the Hub count them."""
    x = float(n or 0)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if x < 1000 or unit == "TB":
            return f"{x:.0f} {unit}" if unit == "B" else f"{x:.1f} {unit}"
        x /= 1000
    return ""


def plan_headline(plan: Plan) -> str:
    """The plan's totals in one line for people, counted in samples (file ids) and in files
    (one per sample and modality), so that neither count is mistaken for the other."""
    samples = {i.file_id for i in plan.items}
    todo = plan.todo
    present = sum(1 for i in plan.items if i.state == "present")
    failed = sum(1 for i in plan.items if i.state == "failed")
    return (
        f"{len(samples)} samples, {len(plan.items)} files (one per sample and modality): "
        f"{len(todo)} files of {len({i.file_id for i in todo})} samples to fetch, "
        f"{human_bytes(plan.bytes_to_fetch)} in {plan.n_requests} requests; "
        f"{present} present, {failed} unavailable"
    )


def format_plan(plan: Plan, unknown: tuple[str, ...] = (), rejected=()) -> str:
    """A dry run: the totals first (human units), keys the catalog lacks, then every file;
    ``rejected``: selection rows that give nothing (invalid windows)."""
    rows = []
    for i in plan.items:
        state = {"present": "present, verified", "failed": f"unavailable: {i.reason}"}.get(
            i.state, f"resume at {i.partial}" if i.partial else "to fetch"
        )
        n = i.needed - i.partial if i.state == "todo" else 0
        rows.append((i.dest, n, plan.requests_of(i), _where(i), state))
    table = format_table(["file", "bytes", "requests", "source", "state"], rows)
    totals = "\n".join(f"{k}: {v}" for k, v in plan_totals(plan).items())
    lines = [f"plan ({plan.layout} source {plan.source}): {plan_headline(plan)}"]
    lines += [_unknown_line(unknown)] if unknown else []
    text = "\n".join([*lines, table, totals])
    if rejected:
        text += "\nnot in the plan:\n" + "\n".join(f"  {o.file_id}: {o.reason}" for o in rejected)
    return text


def _unknown_line(unknown: tuple[str, ...]) -> str:
    return (
        f"{len(unknown)} selected key(s) {NOT_IN_CATALOG}: {', '.join(unknown)}: they parse, "
        "but no ingested filelist lists them: check them, or ingest a filelist that has them"
    )


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
    lines += partial_lines(r.partial)
    failed_ids = {o.file_id for o in r.failures}
    keys = tuple(k for k in r.unknown if k not in failed_ids)  # not named below
    if keys:
        lines.append(_unknown_line(keys))
    if r.failures:
        lines.append("not delivered:")
        lines += [f"  {o.path or o.file_id}: {o.reason}" for o in r.failures]
    if r.failures or keys:
        lines.append(_advice(r))
    return "\n".join(lines)


def _advice(r: MaterializeResult) -> str:
    """What to do next, by cause: a transfer may work the next time; an id no ingested
    filelist lists will not, however often it is retried."""
    retryable = any(o.reason != NOT_IN_CATALOG for o in r.failures)
    absent = r.unknown or any(o.reason == NOT_IN_CATALOG for o in r.failures)
    fix = "check the ids not in the catalog, or ingest a filelist that has them"
    if retryable and absent:
        return f"rerun with --retry-failed to try the others again; {fix}"
    if retryable:
        return "rerun with --retry-failed to try these again"
    return f"{fix} (--retry-failed cannot help them)"


def format_planfile(pf: PlanFile) -> str:
    failed = [i for i in pf.items if i.state == "failed"]
    needed = sum(i.needed for i in pf.items if i.state == "todo")
    lines = [
        f"plan {pf.plan_id}: {len(pf.items)} files ({needed:,} bytes) from {pf.source} "
        f"into {pf.to}; written to {pf.path}",
        f"  {len({i.file_id for i in pf.items})} samples, {len(set(pf.buckets))} interactions",
    ]
    bad = len(failed) + len(pf.unknown) + len(pf.invalid)
    if bad:
        lines.append(f"  {bad} cannot be had (see `status` after a run)")
    if pf.unknown:  # named, as the plain run names them
        lines.append(_unknown_line(tuple(key for key, _ in pf.unknown)))
    if pf.invalid:  # row by row, as the dry run lists them
        lines.append("not in the plan:")
        lines += [f"  {key}: {why}" for key, why, _ in pf.invalid]
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
    lines += partial_lines(st.partial)
    return "\n".join(lines)


def partial_lines(partial: list[PartialArchive]) -> list[str]:
    """The archive folders that hold part of their archive, and why upstream cares."""
    if not partial:
        return []
    head = (
        f"{len(partial)} archive folders hold part of their archive: the upstream "
        "toolkit's download_archive_from_hf(extract=True) takes an existing folder as "
        "extracted and would not add the rest (materialize those archives whole, or "
        "give upstream another local_dir)"
    )
    return [head] + [f"  {p.folder}: {p.present} of {p.expected} files" for p in partial]
