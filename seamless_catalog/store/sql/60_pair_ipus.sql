-- pair_ipus: the IPUs (ipu_bridge_ms=200) of both files of each pair whose two VAD lists were read, speaker 'a' = file_id_a, 'b' = file_id_b; is_backchannel (VAD only, VAP): an IPU of at most bc_max_ms=1000 with at least bc_silence_ms=1000 of the speaker's own silence before and after (none at a file edge counts as silence) that a partner IPU overlaps; partner_file_id = the other file of the pair
create or replace view pair_ipus as
-- joined on the pair's key too, and not as a semi join, so that a filter on interaction_key
-- reaches vad_files' scans (a semi join does not pass it to its right side)
with known_pairs as (
    select p.interaction_key, p.file_id_a, p.file_id_b
    from pairs as p
    join (select distinct interaction_key, file_id from vad_files) as va
        on va.interaction_key = p.interaction_key and va.file_id = p.file_id_a
    join (select distinct interaction_key, file_id from vad_files) as vb
        on vb.interaction_key = p.interaction_key and vb.file_id = p.file_id_b
),

-- each side's file and its partner's (a file belongs to one pair)
sides as (
    select interaction_key, 'a' as speaker, file_id_a as file_id, file_id_b as partner_file_id
    from known_pairs
    union all
    select interaction_key, 'b', file_id_b, file_id_a from known_pairs
),

-- one pass over both speakers' IPUs in start order (a before b at equal starts), partitioned by
-- the pair so that a filter on interaction_key reaches the scans (a range self-join on the
-- partner's file did not let it through): a speaker's own IPUs are disjoint and sorted, so a
-- partner IPU overlaps u exactly when the partner's last IPU before u in that order ends after
-- u's start, or the partner's first IPU after u starts before u's end
swept as (
    select
        s.interaction_key,
        s.speaker,
        i.file_id,
        i.ipu_idx,
        i.start_ms,
        i.end_ms,
        i.duration_ms,
        i.silence_before_ms,
        i.silence_after_ms,
        s.partner_file_id,
        lag(case when s.speaker = 'a' then i.end_ms end ignore nulls) over w as end_a,
        lag(case when s.speaker = 'b' then i.end_ms end ignore nulls) over w as end_b,
        lead(case when s.speaker = 'a' then i.start_ms end ignore nulls) over w as next_a,
        lead(case when s.speaker = 'b' then i.start_ms end ignore nulls) over w as next_b
    from sides as s
    join ipus as i on i.interaction_key = s.interaction_key and i.file_id = s.file_id
    window w as (partition by s.interaction_key order by i.start_ms, s.speaker)
)

select
    interaction_key,
    speaker,
    file_id,
    ipu_idx,
    start_ms,
    end_ms,
    duration_ms,
    silence_before_ms,
    silence_after_ms,
    duration_ms <= 1000
        and coalesce(silence_before_ms, 1000) >= 1000
        and coalesce(silence_after_ms, 1000) >= 1000
        and coalesce(
            case speaker when 'a' then end_b else end_a end > start_ms
            or case speaker when 'a' then next_b else next_a end < end_ms,
            false
        ) as is_backchannel,
    partner_file_id
from swept
