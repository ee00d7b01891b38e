-- prompts: interactions.csv, one row per prompt pair; prompt_hash is 8-char text; n_interactions counts the interactions that used it
create or replace view prompts as
with used as (
    select prompt_hash, count(distinct interaction_key) as n_interactions
    from raw.files
    group by prompt_hash
)
select p.prompt_hash, p.prompt_id_unique, p.participant_a_prompt_text, p.participant_b_prompt_text,
       p.ipc_a, p.ipc_b, p.interaction_type, p.row_index,
       coalesce(u.n_interactions, 0) as n_interactions
from raw.prompts p
left join used u using (prompt_hash)
