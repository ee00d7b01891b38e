-- ipus: inter-pausal units per file: normalised speech segments (speech_segments) bridged over the speaker's own silences shorter than ipu_bridge_ms=200 (VAP); ms times, with the own silence before/after (null at the file's first/last IPU)
create or replace view ipus as
with units as (
    select file_id, ipu_idx, min(start_ms) as start_ms, max(end_ms) as end_ms,
        count(*) as n_segments
    from speech_segments
    group by file_id, ipu_idx
)

select
    file_id,
    ipu_idx,
    start_ms,
    end_ms,
    end_ms - start_ms as duration_ms,
    cast(n_segments as integer) as n_segments,
    start_ms - lag(end_ms) over w as silence_before_ms,
    lead(start_ms) over w - end_ms as silence_after_ms
from units
window w as (partition by file_id order by start_ms)
