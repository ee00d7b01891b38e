-- turn_intervals: every silence (N) and overlap (AB) between the IPUs (ipu_bridge_ms=200) of a pair, classified after Heldner & Edlund (2010): pause (N, same speaker before/after), gap (N, speaker change; also a zero-length gap where one speaker stops exactly when the other starts), within_overlap (AB, same speaker around), between_overlap (AB, speaker change), unclassified (at the edges or next to another N/AB); fto_ms = +gap or -between-overlap length (floor transfer offset, from_speaker -> to_speaker); times in ms include Silero's vad_pad_ms=30 padding (gaps read 60 ms shorter, overlaps 60 ms longer than the raw decisions)
create or replace view turn_intervals as
-- One pass over the IPUs of both speakers of a pair in start order (a before b at equal
-- starts). A speaker's own IPUs never touch (they are >= ipu_bridge_ms apart), so every N or AB
-- interval of the state sweep, and every direct handover, begins at the start of some IPU u of
-- speaker X (partner Y), and follows from the latest ends of both speakers before u (the ends
-- of their last IPUs before u):
--   end_before = latest end of any earlier IPU (only Y's can reach u's start);
--   N  [end_before, u.start] when u starts after it: before it the speakers whose last IPU ends
--      there (both = AB), after it X, or AB when Y starts at the same instant (the next IPU);
--   AB [u.start, least(u.end, end_before)] when Y is still speaking at u's start: before it Y,
--      or N when Y started at the same instant (the previous IPU); after it whoever ends last
--      (N when both end together);
--   a direct handover (a zero-length gap Y -> X) when Y stops exactly where u starts.
-- partitioned by interaction_key, so that a filter on it reaches the scans
with units as (
    select interaction_key, case when speaker = 'a' then 1 else 2 end as x, start_ms, end_ms
    from pair_ipus
),

swept as (
    select
        interaction_key, x, start_ms, end_ms,
        lag(case when x = 1 then end_ms end ignore nulls) over ordered as end_a,
        lag(case when x = 2 then end_ms end ignore nulls) over ordered as end_b,
        lag(start_ms) over ordered = start_ms as same_start_before,
        lead(start_ms) over ordered = start_ms as same_start_after
    from units
    window ordered as (partition by interaction_key order by start_ms, x)
),

-- state codes as in a sweep: 1 = only a, 2 = only b, 3 = both, 0 = neither
states as (
    select
        interaction_key,
        case when start_ms > end_before then 0 when start_ms < end_before then 3 end as state,
        least(start_ms, end_before) as start_ms,
        case when start_ms < end_before then least(end_ms, end_before) else start_ms end as end_ms,
        case
            when start_ms > end_before
                then case when end_a = end_before then 1 else 0 end
                    + case when end_b = end_before then 2 else 0 end
            when start_ms < end_before and coalesce(same_start_before, false) then 0
            else 3 - x
        end as prev_state,
        case
            when start_ms > end_before
                then x + case when coalesce(same_start_after, false) then 3 - x else 0 end
            when start_ms < end_before
                then case
                    when end_ms < end_before then 3 - x
                    when end_ms > end_before then x
                    else 0
                end
            else x
        end as next_state
    from (select *, greatest(end_a, end_b) as end_before from swept)
    where end_before is not null
),

classified as (
    select
        interaction_key,
        case
            when state is null then 'gap'  -- a direct handover
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
