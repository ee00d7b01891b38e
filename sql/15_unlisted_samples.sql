-- unlisted_samples: file_ids found in archives, trees or the per-file layout that filelist.csv does not list (e.g. the de-duplicated ids still inside some tars)
create or replace view unlisted_samples as
with seen as (
    select file_id, label, split, 'archive ' || archive_path as found_in from raw.members
    union all
    select file_id, label, split, origin || ' ' || source_unit from raw.documents
    union all
    select file_id, label, split, origin || ' ' || source_unit from raw.media
)
select file_id, label, split, list(distinct found_in order by found_in) as found_in
from seen
where file_id is not null and file_id not in (select file_id from raw.files)
group by file_id, label, split
