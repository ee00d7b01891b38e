-- participants: one row per person (vendor, participant) seen in the filelist or participants.csv; BFI-2 domain means 1..5 (null when Undisclosed or no row), bfi2_disclosed, in_participants_csv, and counts
create or replace view participants as
with seen as (
    select vendor, participant, count(distinct session_key) as n_sessions,
           count(distinct interaction_key) as n_interactions, count(*) as n_files
    from raw.files
    group by vendor, participant
)
select coalesce(p.vendor, s.vendor) as vendor,
       coalesce(p.participant, s.participant) as participant,
       p.extraversion, p.agreeableness, p.conscientiousness, p.neuroticism, p.openness,
       coalesce(p.bfi2_disclosed, false) as bfi2_disclosed,
       p.vendor is not null as in_participants_csv,
       coalesce(s.n_sessions, 0) as n_sessions,
       coalesce(s.n_interactions, 0) as n_interactions,
       coalesce(s.n_files, 0) as n_files
from raw.participants p
full outer join seen s on p.vendor = s.vendor and p.participant = s.participant
