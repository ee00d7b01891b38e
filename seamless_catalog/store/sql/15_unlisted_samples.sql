-- unlisted_samples: samples found inside archives (tars, or the archive folders of a local tree, whose archive_path has no .tar) that filelist.csv does not list there: ids it does not list at all, and copies under another archive, label or split (the de-duplicated ids still inside some tars); their metadata is not used by the other views
create or replace view unlisted_samples as
select m.file_id, m.label, m.split, m.archive_path,
       list(m.ext order by m.member_idx) as members,
       case when f.file_id is null then 'not in filelist'
            else 'filelist lists it in ' || f.archive_path end as reason
from raw.members m
left join raw.files f on f.file_id = m.file_id
where f.file_id is null or f.label <> m.label or f.split <> m.split
   or f.archive_path not in (m.archive_path, m.archive_path || '.tar')
group by m.file_id, m.label, m.split, m.archive_path, f.file_id, f.archive_path
