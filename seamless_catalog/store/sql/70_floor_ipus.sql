-- floor_ipus: the IPUs of pair_ipus (ipu_bridge_ms=200, both VAD lists read), each with its floor segment: its speaker's IPUs merged across that speaker's Heldner & Edlund pauses (turn_intervals kind 'pause': silence between two IPUs of one speaker while the partner is silent), which is Voice Activity Projection's fill_pauses (Ekstedt & Skantze, vap/events.py) on IPUs in integer ms instead of 50 Hz frames; own_end_before_ms = end of the speaker's previous IPU; plus the partner's activity around it in the pair's start order (a before b at equal starts): partner_end_before_ms = latest end of a partner IPU starting earlier, partner_floor_start_before_ms = floor start of that partner IPU, partner_start_after_ms = first start of a partner IPU starting later (null when there is none); times include Silero's vad_pad_ms=30 padding
create or replace view floor_ipus as
with pauses as (
    select interaction_key, from_speaker as speaker, end_ms as start_ms
    from turn_intervals
    where kind = 'pause'
),

-- an IPU opens a floor segment unless a pause of its speaker ends at its start
marked as (
    select
        u.interaction_key,
        u.speaker,
        u.file_id,
        u.partner_file_id,
        u.ipu_idx,
        u.start_ms,
        u.end_ms,
        p.start_ms is null as opens
    from pair_ipus as u
    left join pauses as p
        on p.interaction_key = u.interaction_key
        and p.speaker = u.speaker
        and p.start_ms = u.start_ms
),

numbered as (
    select
        *,
        count(*) filter (where opens) over (
            partition by interaction_key, file_id order by start_ms rows unbounded preceding
        ) - 1 as floor_idx
    from marked
),

floored as (
    select
        *,
        min(start_ms) over floor as floor_start_ms,
        max(end_ms) over floor as floor_end_ms
    from numbered
    window floor as (partition by interaction_key, file_id, floor_idx)
),

-- one pass over both speakers in start order (as turn_intervals sweeps them)
swept as (
    select
        *,
        case when speaker = 'a' then 1 else 2 end as x,
        lag(case when speaker = 'a' then end_ms end ignore nulls) over ordered as end_a,
        lag(case when speaker = 'b' then end_ms end ignore nulls) over ordered as end_b,
        lag(case when speaker = 'a' then floor_start_ms end ignore nulls) over ordered
            as floor_a,
        lag(case when speaker = 'b' then floor_start_ms end ignore nulls) over ordered
            as floor_b,
        lead(case when speaker = 'a' then start_ms end ignore nulls) over ordered as next_a,
        lead(case when speaker = 'b' then start_ms end ignore nulls) over ordered as next_b
    from floored
    window ordered as (
        partition by interaction_key
        order by start_ms, case when speaker = 'a' then 1 else 2 end
    )
)

select
    s.interaction_key,
    s.speaker,
    s.file_id,
    s.partner_file_id,
    s.ipu_idx,
    s.start_ms,
    s.end_ms,
    cast(s.floor_idx as integer) as floor_idx,
    s.floor_start_ms,
    s.floor_end_ms,
    case s.speaker when 'a' then s.end_a else s.end_b end as own_end_before_ms,
    case s.speaker when 'a' then s.end_b else s.end_a end as partner_end_before_ms,
    case s.speaker when 'a' then s.floor_b else s.floor_a end as partner_floor_start_before_ms,
    case s.speaker when 'a' then s.next_b else s.next_a end as partner_start_after_ms
from swept as s
