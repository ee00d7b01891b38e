-- interactions: one row per interaction_key (vendor, session, prompt); prompt and relationship joined (outer: kept when absent); duration_s = the longest of its files
create or replace view interactions as
select f.interaction_key, f.vendor, f.session, f.prompt_hash, f.session_key, f.label, f.split,
       count(*) as n_files,
       p.interaction_type, p.ipc_a, p.ipc_b,
       p.participant_a_prompt_text, p.participant_b_prompt_text,
       r.relationship, r.relationship_detail,
       max(f.duration_s) as duration_s
from files f
left join raw.prompts p on p.prompt_hash = f.prompt_hash
left join raw.relationships r on r.session_key = f.session_key
group by all
