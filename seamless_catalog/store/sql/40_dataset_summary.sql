-- dataset_summary: per label, split, vendor: files, interactions, sessions, participants, hours (sum of file durations) and interaction_hours (each interaction once, by its longest file, as the published 4,048 h are counted)
create or replace view dataset_summary as
with per_interaction as (
    select label, split, vendor, interaction_key, max(duration_s) as duration_s
    from files
    group by all
),
interaction_hours as (
    select label, split, vendor, sum(duration_s) / 3600.0 as interaction_hours
    from per_interaction
    group by all
),
file_counts as (
    select label, split, vendor,
           count(*) as n_files,
           count(distinct interaction_key) as n_interactions,
           count(distinct session_key) as n_sessions,
           count(distinct participant) as n_participants,
           count(duration_s) as n_files_with_duration,
           sum(duration_s) / 3600.0 as hours
    from files
    group by all
)
select c.*, h.interaction_hours
from file_counts c
join interaction_hours h using (label, split, vendor)
order by label, split, vendor
