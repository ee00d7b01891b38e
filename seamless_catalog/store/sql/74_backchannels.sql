-- backchannels: short isolated vocalisations, by two rules (each row says which hold): during_partner_speech = the rule turn_taking counts (pair_ipus.is_backchannel: an IPU of at most bc_max_ms=1000 with at least bc_silence_ms=1000 of the speaker's own silence before and after, a file edge counting as silence, that a partner IPU overlaps); vap = Voice Activity Projection's (Ekstedt & Skantze, vap/events.py): a floor segment of floor_ipus (own pauses filled) of at most 1000 ms with at least 1000 ms of the speaker's silence before and after (the recording's end when known) starting at least 3000 ms in, whoever else speaks; VAP's also finds backchannels in the partner's pauses, the turn_taking rule also counts those near the start; spans differ when VAP's fills a pause inside one; file_id = the speaker's file; ipu_bridge_ms=200, vad_pad_ms=30
create or replace view backchannels as
with floors as (
    select
        interaction_key,
        speaker,
        file_id,
        partner_file_id,
        floor_start_ms as start_ms,
        max(floor_end_ms) as end_ms
    from floor_ipus
    group by all
),

spaced as (
    select
        g.*,
        g.start_ms - coalesce(lag(g.end_ms) over w, 0) as silence_before_ms,
        coalesce(lead(g.start_ms) over w, cast(round(f.duration_s * 1000) as bigint))
            - g.end_ms as silence_after_ms
    from floors as g
    left join files as f on f.interaction_key = g.interaction_key and f.file_id = g.file_id
    window w as (partition by g.interaction_key, g.file_id order by g.start_ms)
),

vap as (
    select interaction_key, speaker, file_id, partner_file_id, start_ms, end_ms
    from spaced
    where end_ms - start_ms <= 1000
        and start_ms >= 3000
        and silence_before_ms >= 1000
        and coalesce(silence_after_ms, 1000) >= 1000
),

counted as (
    select
        u.interaction_key,
        u.speaker,
        u.file_id,
        u.partner_file_id,
        u.start_ms,
        u.end_ms
    from pair_ipus as u
    where u.is_backchannel
),

-- the two rules' rows matched on the span (a union and a group, not a full join: a filter on
-- interaction_key passes a group by it, not a coalesce of the two sides)
both_rules as (
    select interaction_key, speaker, file_id, partner_file_id, start_ms, end_ms,
        true as vap, false as counted
    from vap
    union all
    select interaction_key, speaker, file_id, partner_file_id, start_ms, end_ms, false, true
    from counted
)

select
    interaction_key,
    file_id,
    partner_file_id,
    start_ms / 1000.0 as start_s,
    end_ms / 1000.0 as end_s,
    'backchannel' as kind,
    speaker,
    end_ms - start_ms as duration_ms,
    bool_or(vap) as vap,
    bool_or(counted) as during_partner_speech
from both_rules
group by interaction_key, speaker, file_id, partner_file_id, start_ms, end_ms
