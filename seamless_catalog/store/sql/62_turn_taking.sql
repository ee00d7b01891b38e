-- turn_taking: per pair (a = file_id_a, b = file_id_b), from VAD in integer ms with Silero's vad_pad_ms=30 padding kept and IPUs bridged at ipu_bridge_ms=200: speech/overlap/silence over the span from first onset to last offset (VAD level); Heldner & Edlund interval counts (turn_intervals); FTO quantiles (exact, quantile_cont) over floor transfers = gaps + between-speaker overlaps, null below 5 of them (per direction too); turns = non-backchannel IPUs of both sorted by start, consecutive same-speaker ones merged; a transition = consecutive turns by different speakers, in overlap when the new turn starts before the previous ends; backchannels as in pair_ipus (bc_max_ms=1000, bc_silence_ms=1000); flags one_sided (balance < 0.1, or no speech at all), low_transitions (< 5 transitions), alignment_suspect (overlap_vs_chance >= 0.6: overlap not clearly below speech_a*speech_b/span, what unrelated tracks give); all null when either side has no VAD
create or replace view turn_taking as
with sides as materialized (
    select
        p.interaction_key,
        p.file_id_a,
        p.file_id_b,
        va.file_id is not null and vb.file_id is not null as known,
        row_number() over (order by p.interaction_key) as pid  -- a compact key for the sorts below
    from pairs as p
    left join vad_files as va on va.file_id = p.file_id_a
    left join vad_files as vb on vb.file_id = p.file_id_b
),

-- speaker x: 1 = a, 2 = b
units as materialized (
    select
        s.pid,
        case when u.speaker = 'a' then 1 else 2 end as x,
        u.start_ms,
        u.end_ms,
        u.is_backchannel
    from pair_ipus as u
    join sides as s on s.interaction_key = u.interaction_key
),

segments as materialized (
    select f.pid, f.x, g.start_ms, g.end_ms
    from (
        select pid, 1 as x, file_id_a as file_id from sides where known
        union all
        select pid, 2, file_id_b from sides where known
    ) as f
    join speech_segments as g on g.file_id = f.file_id
),

-- each speaker's segments are disjoint, so the overlap of the two is the sum of the pairwise
-- intersections of an a segment with a b segment, and union = a + b - overlap
overlap as (
    select a.pid, sum(least(a.end_ms, b.end_ms) - greatest(a.start_ms, b.start_ms)) as overlap_ms
    from segments as a
    join segments as b
        on b.pid = a.pid
        and b.start_ms < a.end_ms
        and a.start_ms < b.end_ms
    where a.x = 1 and b.x = 2
    group by a.pid
),

speech as (
    select
        g.pid,
        sum(g.end_ms - g.start_ms) filter (where g.x = 1) as speech_a_ms,
        sum(g.end_ms - g.start_ms) filter (where g.x = 2) as speech_b_ms,
        max(g.end_ms) - min(g.start_ms) as span_ms
    from segments as g
    group by g.pid
),

intervals as (
    select
        interaction_key,
        count(*) filter (where kind = 'pause') as n_pauses,
        count(*) filter (where kind = 'gap') as n_gaps,
        count(*) filter (where kind = 'between_overlap') as n_between_overlaps,
        count(*) filter (where kind = 'within_overlap') as n_within_overlaps,
        count(*) filter (where kind = 'unclassified') as n_unclassified,
        count(fto_ms) as n_fto,
        quantile_cont(fto_ms, [0.25, 0.5, 0.75]) as fto_q,
        count(fto_ms) filter (where from_speaker = 'a') as n_fto_ab,
        quantile_cont(fto_ms, 0.5) filter (where from_speaker = 'a') as fto_med_ab,
        count(fto_ms) filter (where from_speaker = 'b') as n_fto_ba,
        quantile_cont(fto_ms, 0.5) filter (where from_speaker = 'b') as fto_med_ba
    from turn_intervals
    group by interaction_key
),

-- turns: a row whose speaker differs from the previous non-backchannel IPU starts a new turn;
-- the previous IPU is the last (and latest-ending) IPU of the previous turn
turn_starts as (
    select
        pid,
        x <> lag(x) over w as is_transition,
        start_ms < lag(end_ms) over w as starts_in_overlap
    from units
    where not is_backchannel
    window w as (partition by pid order by start_ms, x)
),

turns as (
    select
        pid,
        count(*) filter (where is_transition) as n_transitions,
        count(*) filter (where is_transition and starts_in_overlap) as n_transitions_in_overlap
    from turn_starts
    group by pid
),

backchannels as (
    select
        pid,
        count(*) filter (where is_backchannel and x = 1) as n_backchannels_a,
        count(*) filter (where is_backchannel and x = 2) as n_backchannels_b
    from units
    group by pid
),

joined as (
    select
        s.interaction_key,
        s.known,
        coalesce(sp.speech_a_ms, 0) as a_ms,
        coalesce(sp.speech_b_ms, 0) as b_ms,
        coalesce(o.overlap_ms, 0) as overlap_ms,
        coalesce(sp.speech_a_ms, 0) + coalesce(sp.speech_b_ms, 0) - coalesce(o.overlap_ms, 0)
            as union_ms,
        coalesce(sp.span_ms, 0) as span_ms,
        i.*  exclude (interaction_key),
        coalesce(t.n_transitions, 0) as n_transitions,
        coalesce(t.n_transitions_in_overlap, 0) as n_transitions_in_overlap,
        coalesce(b.n_backchannels_a, 0) as n_backchannels_a,
        coalesce(b.n_backchannels_b, 0) as n_backchannels_b
    from sides as s
    left join speech as sp on sp.pid = s.pid
    left join overlap as o on o.pid = s.pid
    left join intervals as i on i.interaction_key = s.interaction_key
    left join turns as t on t.pid = s.pid
    left join backchannels as b on b.pid = s.pid
),

stats as (
    select
        interaction_key,
        a_ms / 1000.0 as speech_a_s,
        b_ms / 1000.0 as speech_b_s,
        overlap_ms / 1000.0 as overlap_s,
        (span_ms - union_ms) / 1000.0 as silence_s,
        span_ms / 1000.0 as span_s,
        case when union_ms > 0 then overlap_ms / union_ms end as overlap_ratio,
        case when greatest(a_ms, b_ms) > 0 then least(a_ms, b_ms) / greatest(a_ms, b_ms) end as balance,
        case when a_ms > 0 and b_ms > 0 then overlap_ms * span_ms / (a_ms * b_ms) end as overlap_vs_chance,
        coalesce(n_pauses, 0) as n_pauses,
        coalesce(n_gaps, 0) as n_gaps,
        coalesce(n_between_overlaps, 0) as n_between_overlaps,
        coalesce(n_within_overlaps, 0) as n_within_overlaps,
        coalesce(n_unclassified, 0) as n_unclassified,
        coalesce(n_fto, 0) as n_floor_transfers,
        n_transitions,
        case when span_ms > 0 then n_transitions * 60000.0 / span_ms end as transitions_per_min,
        case when n_transitions > 0 then n_transitions_in_overlap / n_transitions end
            as share_transitions_in_overlap,
        case when n_fto >= 5 then fto_q[2] end as fto_median_ms,
        case when n_fto >= 5 then fto_q[1] end as fto_q25_ms,
        case when n_fto >= 5 then fto_q[3] end as fto_q75_ms,
        case when n_fto_ab >= 5 then fto_med_ab end as fto_median_a_to_b_ms,
        case when n_fto_ba >= 5 then fto_med_ba end as fto_median_b_to_a_ms,
        n_backchannels_a,
        n_backchannels_b
    from joined
    where known
)

select
    s.interaction_key,
    t.* exclude (interaction_key),
    case when t.speech_a_s is not null then coalesce(t.balance, 0) < 0.1 end as one_sided,
    t.n_transitions < 5 as low_transitions,
    t.overlap_vs_chance >= 0.6 as alignment_suspect
from sides as s
left join stats as t on t.interaction_key = s.interaction_key
