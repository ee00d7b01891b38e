-- speech_segments: each file's VAD normalised in integer ms (round(x*1000)): end<=start dropped, clipped to [0, duration_s] when known, sorted, overlapping or touching segments merged; ipu_idx groups segments into IPUs bridged over own silences < ipu_bridge_ms=200; interaction_key = the file's (from files; null for a file not in the filelist), so that a filter on it reaches the scans
create or replace view speech_segments as
with ms as (
    select
        f.interaction_key,
        v.file_id,
        cast(round(v.start_s * 1000) as bigint) as s,
        cast(round(v.end_s * 1000) as bigint) as e,
        cast(round(f.duration_s * 1000) as bigint) as dur
    from raw.vad_segments as v
    left join files as f on f.file_id = v.file_id
),

clipped as (
    select interaction_key, file_id, greatest(s, 0) as s, coalesce(least(e, dur), e) as e
    from ms
    where e > s
),

-- in (s, e) order, a row opens a merged segment when it starts after every earlier end
-- (touching merges), and an IPU when it starts at least ipu_bridge_ms = 200 after them
flagged as (
    select
        interaction_key, file_id, s,
        max(e) over (
            partition by interaction_key, file_id order by s, e
            rows between unbounded preceding and 1 preceding
        ) as end_before,
        max(e) over (
            partition by interaction_key, file_id order by s, e
            rows between unbounded preceding and unbounded following
        ) as file_end
    from clipped
    where e > s
),

-- one row per merged segment (the opening rows; their starts increase strictly): it ends at
-- the latest end before the next opening row, or at the file's last end
merged as (
    select
        interaction_key,
        file_id,
        s,
        row_number() over w as seg_no,
        count(case when end_before is null or s - end_before >= 200 then 1 end) over w as ipu_no,
        lead(end_before, 1, file_end) over w as end_ms
    from flagged
    where end_before is null or s > end_before
    window w as (partition by interaction_key, file_id order by s rows unbounded preceding)
)

select
    file_id,
    cast(seg_no - 1 as integer) as segment_idx,
    s as start_ms,
    end_ms,
    cast(ipu_no - 1 as integer) as ipu_idx,
    interaction_key
from merged
