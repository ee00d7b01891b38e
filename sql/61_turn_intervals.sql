-- turn_intervals: every silence (N) and overlap (AB) between the IPUs (ipu_bridge_ms=200) of a pair, classified after Heldner & Edlund (2010): pause (N, same speaker before/after), gap (N, speaker change; also a zero-length gap where one speaker stops exactly when the other starts), within_overlap (AB, same speaker around), between_overlap (AB, speaker change), unclassified (at the edges or next to another N/AB); fto_ms = +gap or -between-overlap length (floor transfer offset, from_speaker -> to_speaker); times in ms include Silero's vad_pad_ms=30 padding (gaps read 60 ms shorter, overlaps 60 ms longer than the raw decisions)
create or replace view turn_intervals as
with units as materialized (
    select interaction_key, speaker, start_ms, end_ms from pair_ipus
),

events as (
    select interaction_key, start_ms as t,
        case when speaker = 'a' then 1 else 0 end as da,
        case when speaker = 'b' then 1 else 0 end as db
    from units
    union all
    select interaction_key, end_ms,
        case when speaker = 'a' then -1 else 0 end,
        case when speaker = 'b' then -1 else 0 end
    from units
),

points as (
    select interaction_key, t, sum(da) as da, sum(db) as db
    from events
    group by interaction_key, t
),

-- state of [t, next_t): 1 = only a, 2 = only b, 3 = both, 0 = neither; the state before t is
-- (running count - delta at t), the state after next_t is (running count + delta at next_t)
swept as (
    select
        interaction_key, t, da, db,
        sum(da) over w as ca,
        sum(db) over w as cb,
        lead(t) over w as next_t,
        lead(da) over w as next_da,
        lead(db) over w as next_db,
        lead(t, 2) over w is null as next_is_edge,
        row_number() over w = 1 as prev_is_edge
    from points
    window w as (partition by interaction_key order by t rows unbounded preceding)
),

states as (
    select
        interaction_key, t as start_ms, next_t as end_ms,
        ca + 2 * cb as state,
        case when prev_is_edge then -1 else (ca - da) + 2 * (cb - db) end as prev_state,
        case when next_is_edge then -1 else (ca + next_da) + 2 * (cb + next_db) end as next_state
    from swept
    where next_t is not null
),

classified as (
    select
        interaction_key,
        case
            when prev_state not in (1, 2) or next_state not in (1, 2) then 'unclassified'
            when state = 0 and prev_state = next_state then 'pause'
            when state = 0 then 'gap'
            when prev_state = next_state then 'within_overlap'
            else 'between_overlap'
        end as kind,
        start_ms,
        end_ms,
        case prev_state when 1 then 'a' when 2 then 'b' end as from_speaker,
        case next_state when 1 then 'a' when 2 then 'b' end as to_speaker
    from states
    where state in (0, 3)
    union all
    -- a direct handover: the state changes from one single speaker to the other at one instant
    select
        interaction_key, 'gap', start_ms, start_ms,
        case prev_state when 1 then 'a' else 'b' end,
        case state when 1 then 'a' else 'b' end
    from states
    where state in (1, 2) and prev_state in (1, 2) and prev_state <> state
)

select
    interaction_key,
    kind,
    start_ms,
    end_ms,
    from_speaker,
    to_speaker,
    case kind
        when 'gap' then end_ms - start_ms
        when 'between_overlap' then start_ms - end_ms
    end as fto_ms
from classified
