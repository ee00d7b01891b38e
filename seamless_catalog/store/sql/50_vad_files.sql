-- vad_files: every file whose VAD list was read (it has raw.vad_segments rows, or a documents row with vad_present), with n_vad_segments as given and n_dropped_segments (end <= start after rounding to integer ms); an empty list gives 0 rows here but a row with 0 segments
create or replace view vad_files as
with counted as (
    select
        file_id,
        count(*) as n_vad_segments,
        count(*) filter (where round(end_s * 1000) <= round(start_s * 1000)) as n_dropped_segments
    from raw.vad_segments
    group by file_id
),

listed as (
    select distinct file_id
    from raw.documents
    where vad_present
)

select
    coalesce(c.file_id, l.file_id) as file_id,
    coalesce(c.n_vad_segments, 0) as n_vad_segments,
    coalesce(c.n_dropped_segments, 0) as n_dropped_segments
from counted as c
full join listed as l on l.file_id = c.file_id
