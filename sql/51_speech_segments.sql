-- speech_segments: each file's VAD normalised in integer ms (round(x*1000)): end<=start dropped, clipped to [0, duration_s] when known, sorted, overlapping or touching segments merged; ipu_idx groups segments into IPUs bridged over own silences < ipu_bridge_ms=200
create or replace view speech_segments as
with ms as (
    select
        v.file_id,
        cast(round(v.start_s * 1000) as bigint) as s,
        cast(round(v.end_s * 1000) as bigint) as e,
        cast(round(f.duration_s * 1000) as bigint) as dur
    from raw.vad_segments as v
    left join files as f on f.file_id = v.file_id
),

clipped as (
    select file_id, greatest(s, 0) as s, coalesce(least(e, dur), e) as e
    from ms
    where e > s
),

-- one pass: a row opens a merged segment when it starts after every earlier end (touching
-- merges) and an IPU when it starts at least ipu_bridge_ms = 200 after them; it closes one when
-- the next row opens one, at the running maximum end
flagged as (
    select
        file_id, s,
        max(e) over w as run_end,
        s - max(e) over before_me as gap_ms,
        lead(s) over w - max(e) over w as next_gap_ms,
        row_number() over w as rn
    from clipped
    where e > s
    window
        w as (partition by file_id order by s, e rows unbounded preceding),
        before_me as (partition by file_id order by s, e rows between unbounded preceding and 1 preceding)
),

numbered as (
    select
        file_id,
        run_end,
        next_gap_ms,
        max(case when gap_ms is null or gap_ms > 0 then s end) over w as seg_start,
        count(case when gap_ms is null or gap_ms > 0 then 1 end) over w as seg_no,
        count(case when gap_ms is null or gap_ms >= 200 then 1 end) over w as ipu_no
    from flagged
    window w as (partition by file_id order by rn rows unbounded preceding)
)

select
    file_id,
    cast(seg_no - 1 as integer) as segment_idx,
    seg_start as start_ms,
    run_end as end_ms,
    cast(ipu_no - 1 as integer) as ipu_idx
from numbered
where next_gap_ms is null or next_gap_ms > 0
