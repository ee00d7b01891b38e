-- turn_events: every Heldner & Edlund (2010) gap, between-speaker overlap and pause of turn_intervals (ipu_bridge_ms=200, vad_pad_ms=30), with vap = whether it is also a Voice Activity Projection shift or hold (Ekstedt & Skantze, vap/events.py, on IPUs in integer ms instead of 50 Hz frames): a silence (a gap longer than 0 ms, or a pause) with vap_cond_ms=1000 of single-speaker activity before it (the from speaker active throughout, own pauses filled, the partner silent) and after it (the to speaker likewise), starting at least vap_context_ms=3000 into the recording; overlaps and direct handovers are never VAP events; from_file_id/to_file_id are the speakers' files
create or replace view turn_events as
with events as (
    select interaction_key, kind, start_ms, end_ms, from_speaker, to_speaker, fto_ms
    from turn_intervals
    where kind in ('gap', 'between_overlap', 'pause')
)

select
    e.interaction_key,
    e.kind,
    e.start_ms,
    e.end_ms,
    e.from_speaker,
    e.to_speaker,
    case e.to_speaker when e.from_speaker then u.file_id else u.partner_file_id end
        as from_file_id,
    u.file_id as to_file_id,
    e.fto_ms,
    coalesce(
        e.kind in ('gap', 'pause')
        and e.end_ms > e.start_ms
        and e.start_ms >= 3000
        -- before: the from speaker's floor segment covers the second before the silence, and
        -- the other speaker's last activity ended by its start
        and (case when e.kind = 'pause' then u.floor_start_ms
                  else u.partner_floor_start_before_ms end) <= e.start_ms - 1000
        and coalesce(
            case when e.kind = 'pause' then u.partner_end_before_ms else u.own_end_before_ms end,
            -1000000
        ) <= e.start_ms - 1000
        -- after: the to speaker's floor segment covers the second after it, the other is silent
        and u.floor_end_ms >= e.end_ms + 1000
        and coalesce(u.partner_start_after_ms, 1000000000) >= e.end_ms + 1000,
        false
    ) as vap
from events as e
join floor_ipus as u
    on u.interaction_key = e.interaction_key
    and u.speaker = e.to_speaker
    -- the to speaker's IPU that starts where the silence ends, or where the overlap starts
    and u.start_ms = case when e.kind = 'between_overlap' then e.start_ms else e.end_ms end
