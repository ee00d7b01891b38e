-- turn_shifts: moments where the floor changes hands, one row per Heldner & Edlund (2010) floor transfer of turn_events: a gap (silence between different speakers, 0 ms for a direct handover) or a between-speaker overlap; start_s/end_s = the silence or the overlap (seconds; pad the window to see around it), file_id null (a pair moment: a window of it covers both sides), kind 'shift', interval 'gap' or 'between_overlap', fto_ms (+gap, -overlap), vap = also a Voice Activity Projection shift (silence with 1 s of single-speaker activity before and after, at least 3 s in; see turn_events); ipu_bridge_ms=200, vad_pad_ms=30
create or replace view turn_shifts as
select
    interaction_key,
    cast(null as varchar) as file_id,
    start_ms / 1000.0 as start_s,
    end_ms / 1000.0 as end_s,
    'shift' as kind,
    kind as interval,
    from_speaker,
    to_speaker,
    from_file_id,
    to_file_id,
    fto_ms,
    vap
from turn_events
where kind in ('gap', 'between_overlap')
