-- ipus: inter-pausal units per file: normalised speech segments (speech_segments) bridged over the speaker's own silences shorter than ipu_bridge_ms=200 (VAP); ms times, with the own silence before/after (null at the file's first/last IPU)
create or replace view ipus as
-- one pass over the segments in order: a segment opens an IPU when the previous one belongs to
-- another, closes it when the next one does; most IPUs are one segment (opens and closes), the
-- others are summed from their segments
with marked as materialized (
    select
        file_id,
        ipu_idx,
        start_ms,
        end_ms,
        lag(ipu_idx) over w is distinct from ipu_idx as opens,
        lead(ipu_idx) over w is distinct from ipu_idx as closes,
        start_ms - lag(end_ms) over w as silence_before_ms,
        lead(start_ms) over w - end_ms as silence_after_ms
    from speech_segments
    window w as (partition by file_id order by segment_idx)
),

multi as (
    select
        file_id,
        ipu_idx,
        min(start_ms) as start_ms,
        max(end_ms) as end_ms,
        count(*) as n_segments,
        max(silence_before_ms) filter (where opens) as silence_before_ms,
        max(silence_after_ms) filter (where closes) as silence_after_ms
    from marked
    where not (opens and closes)
    group by file_id, ipu_idx
)

select
    file_id,
    ipu_idx,
    start_ms,
    end_ms,
    end_ms - start_ms as duration_ms,
    cast(1 as integer) as n_segments,
    silence_before_ms,
    silence_after_ms
from marked
where opens and closes
union all
select
    file_id,
    ipu_idx,
    start_ms,
    end_ms,
    end_ms - start_ms,
    cast(n_segments as integer),
    silence_before_ms,
    silence_after_ms
from multi
