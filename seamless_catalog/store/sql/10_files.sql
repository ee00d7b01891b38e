-- files: one row per filelist.csv row, with facts joined in: duration_s (wav header, else mp4 mvhd, else npz frames / 30 Hz), duration_source, placeholder, modalities present, metadata read
create or replace view files as
with media as (
    select file_id,
           max(duration_s) filter (where ext = 'wav' and not placeholder) as wav_duration_s,
           max(duration_s) filter (where ext = 'mp4' and not placeholder) as mp4_duration_s,
           bool_or(placeholder) filter (where ext in ('wav', 'mp4', 'npz')) as placeholder,
           list(distinct ext order by ext) as modalities,
           list(distinct ext order by ext) filter (where placeholder) as placeholder_modalities,
           sum(bytes)::bigint as bytes  -- sum() widens to HUGEINT, which is not portable
    from raw.media
    group by file_id
),
frames as (
    select file_id, max(n_frames) as npz_frames
    from raw.features
    where key = 'smplh:is_valid'
    group by file_id
),
docs as (
    select file_id, bool_or(transcript_present) as transcript_read, bool_or(vad_present) as vad_read,
           flatten(list(annotation_types)) as annotation_types
    from raw.documents
    group by file_id
)
select f.file_id, f.vendor, f.session, f.prompt_hash, f.participant, f.session_key,
       f.interaction_key, f.label, f.split, f.batch_idx, f.archive_idx,
       f.has_imitator_movement, f.has_annotation_1p, f.has_annotation_3p, f.archive_path,
       coalesce(m.wav_duration_s, m.mp4_duration_s, fr.npz_frames / 30.0) as duration_s,
       case when m.wav_duration_s is not null then 'wav'
            when m.mp4_duration_s is not null then 'mp4'
            when fr.npz_frames is not null then 'npz' end as duration_source,
       m.placeholder,
       coalesce(m.modalities, []) as modalities,
       coalesce(m.placeholder_modalities, []) as placeholder_modalities,
       m.bytes,
       d.file_id is not null as metadata_read,
       d.transcript_read, d.vad_read, d.annotation_types
from raw.files f
left join media m using (file_id)
left join frames fr using (file_id)
left join docs d using (file_id)
