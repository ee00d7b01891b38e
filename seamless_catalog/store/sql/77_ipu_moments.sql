-- ipu_moments: the IPUs of the ipus view (ipu_bridge_ms=200, vad_pad_ms=30) as moments: start_s/end_s in seconds, kind 'ipu', the file's interaction_key and partner_file_id (null for a singleton or an unpaired file), ipu_idx, duration_ms and the own silence before/after (null at the file's first/last IPU); every file whose VAD was read, paired or not
create or replace view ipu_moments as
with sides as (
    select file_id_a as file_id, file_id_b as partner_file_id from pairs
    union all
    select file_id_b, file_id_a from pairs
)

select
    f.interaction_key,
    i.file_id,
    s.partner_file_id,
    i.start_ms / 1000.0 as start_s,
    i.end_ms / 1000.0 as end_s,
    'ipu' as kind,
    i.ipu_idx,
    i.duration_ms,
    i.silence_before_ms,
    i.silence_after_ms
from ipus as i
join files as f on f.interaction_key = i.interaction_key and f.file_id = i.file_id
left join sides as s on s.file_id = i.file_id
