-- pair_ipus: the IPUs (ipu_bridge_ms=200) of both files of each pair whose two VAD lists were read, speaker 'a' = file_id_a, 'b' = file_id_b; is_backchannel (VAD only, VAP): an IPU of at most bc_max_ms=1000 with at least bc_silence_ms=1000 of the speaker's own silence before and after (none at a file edge counts as silence) that a partner IPU overlaps
create or replace view pair_ipus as
with known_pairs as (
    select p.interaction_key, p.file_id_a, p.file_id_b
    from pairs as p
    semi join vad_files as va on va.file_id = p.file_id_a
    semi join vad_files as vb on vb.file_id = p.file_id_b
),

-- each side's file and its partner's (a file belongs to one pair)
sides as (
    select interaction_key, 'a' as speaker, file_id_a as file_id, file_id_b as partner_file_id
    from known_pairs
    union all
    select interaction_key, 'b', file_id_b, file_id_a from known_pairs
),

-- ipus read once (a view computed on each query)
units as materialized (
    select s.interaction_key, s.speaker, s.partner_file_id, i.*
    from sides as s
    join ipus as i on i.file_id = s.file_id
),

-- a candidate is a backchannel when some IPU of the partner's file overlaps it (a range join:
-- DuckDB's ASOF join took 70x longer here)
backchannels as (
    select c.file_id, c.ipu_idx
    from units as c
    join units as p
        on p.file_id = c.partner_file_id
        and p.start_ms < c.end_ms
        and p.end_ms > c.start_ms
    where c.duration_ms <= 1000
        and coalesce(c.silence_before_ms, 1000) >= 1000
        and coalesce(c.silence_after_ms, 1000) >= 1000
    group by all
)

select
    u.interaction_key,
    u.speaker,
    u.file_id,
    u.ipu_idx,
    u.start_ms,
    u.end_ms,
    u.duration_ms,
    u.silence_before_ms,
    u.silence_after_ms,
    b.ipu_idx is not null as is_backchannel
from units as u
left join backchannels as b on b.file_id = u.file_id and b.ipu_idx = u.ipu_idx
