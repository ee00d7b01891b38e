-- ipus: inter-pausal units per file: normalised speech segments (speech_segments) bridged over the speaker's own silences shorter than ipu_bridge_ms=200 (VAP); ms times, with the own silence before/after (null at the file's first/last IPU); interaction_key as in speech_segments
create or replace view ipus as
-- one pass over the segments in order gives each its own silence before/after; an IPU is the
-- group of its segments (one group by: a CTE read twice would be materialized whole, and a
-- filter on interaction_key or file_id would no longer reach the scans)
with marked as (
    select
        interaction_key,
        file_id,
        ipu_idx,
        start_ms,
        end_ms,
        lag(ipu_idx) over w is distinct from ipu_idx as opens,
        lead(ipu_idx) over w is distinct from ipu_idx as closes,
        start_ms - lag(end_ms) over w as silence_before_ms,
        lead(start_ms) over w - end_ms as silence_after_ms
    from speech_segments
    window w as (partition by interaction_key, file_id order by segment_idx)
)

select
    file_id,
    ipu_idx,
    min(start_ms) as start_ms,
    max(end_ms) as end_ms,
    max(end_ms) - min(start_ms) as duration_ms,
    cast(count(*) as integer) as n_segments,
    max(silence_before_ms) filter (where opens) as silence_before_ms,
    max(silence_after_ms) filter (where closes) as silence_after_ms,
    interaction_key
from marked
group by interaction_key, file_id, ipu_idx
