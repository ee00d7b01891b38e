-- pairs: interactions with exactly two files (singletons excluded), file_id_a < file_id_b; each side's participant, archive and duration
create or replace view pairs as
select i.interaction_key, i.vendor, i.session_key, i.prompt_hash, i.label, i.split,
       a.file_id as file_id_a, b.file_id as file_id_b,
       a.participant as participant_a, b.participant as participant_b,
       a.batch_idx, a.archive_idx as archive_idx_a, b.archive_idx as archive_idx_b,
       a.archive_path as archive_path_a, b.archive_path as archive_path_b,
       a.duration_s as duration_a_s, b.duration_s as duration_b_s,
       i.interaction_type, i.relationship, i.relationship_detail
from interactions i
join files a on a.interaction_key = i.interaction_key
join files b on b.interaction_key = i.interaction_key and a.file_id < b.file_id
where i.n_files = 2
