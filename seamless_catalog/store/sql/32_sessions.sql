-- sessions: one row per session_key with its relationship (null when relationships.csv has no row), counts, and interaction_hours (each interaction once, by its longest file)
create or replace view sessions as
with people as (
    select session_key, count(distinct participant) as n_participants
    from raw.files
    group by session_key
)
select i.session_key, i.vendor, i.session,
       any_value(i.relationship) as relationship,
       any_value(i.relationship_detail) as relationship_detail,
       count(*) as n_interactions,
       cast(sum(i.n_files) as bigint) as n_files,
       any_value(p.n_participants) as n_participants,
       sum(i.duration_s) / 3600.0 as interaction_hours
from interactions i
join people p using (session_key)
group by i.session_key, i.vendor, i.session
