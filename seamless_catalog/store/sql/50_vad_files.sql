-- vad_files: every file whose VAD list was read (it has raw.vad_segments rows, or a documents row with vad_present), with n_vad_segments as given and n_dropped_segments (end <= start after rounding to integer ms); an empty list gives 0 rows here but a row with 0 segments; interaction_key = the file's, as in speech_segments
create or replace view vad_files as
-- the segments counted and the documents that list VAD, unioned and grouped by file (a full
-- join would stop a filter on file_id or interaction_key; files joined before the group, so
-- that such a filter reaches the scans)
with listed as (
    select
        v.file_id,
        1 as n,
        case when round(v.end_s * 1000) <= round(v.start_s * 1000) then 1 else 0 end as dropped
    from raw.vad_segments as v
    union all
    select file_id, 0, 0
    from raw.documents
    where vad_present
)

select
    l.file_id,
    sum(l.n)::bigint as n_vad_segments,
    sum(l.dropped)::bigint as n_dropped_segments,
    f.interaction_key
from listed as l
left join files as f on f.file_id = l.file_id
group by f.interaction_key, l.file_id
