-- listening_segments: stretches where one side listens: the partner holds the floor (a floor segment of floor_ipus: the partner's IPUs with their own pauses filled) and the listener has no IPU, at least listen_min_ms=2500 long (after the public code on this dataset that takes gaps of 2.5 s or more between the listener's transcript segments), clipped to the listener's recording when its duration is known; any vocalisation of the listener (a backchannel too) ends a stretch; file_id = the listener, partner_file_id = the speaker; VAD-based (ipu_bridge_ms=200, vad_pad_ms=30)
create or replace view listening_segments as
-- per listener: +1/-1 where the partner's floor opens/closes (dp: k = 1, 2, from the IPU that
-- opens the floor) and where the listener's own IPUs start/end (dl: k = 3, 4); floor_ipus read
-- once (three readings made the plan of `moments` three times longer to optimise)
with events as (
    select
        u.interaction_key,
        case when r.k <= 2 then u.partner_file_id else u.file_id end as listener,
        case when r.k <= 2 then u.file_id else u.partner_file_id end as speaker,
        case r.k
            when 1 then u.floor_start_ms
            when 2 then u.floor_end_ms
            when 3 then u.start_ms
            else u.end_ms
        end as t,
        case r.k when 1 then 1 when 2 then -1 else 0 end as dp,
        case r.k when 3 then 1 when 4 then -1 else 0 end as dl
    from floor_ipus as u
    cross join range(1, 5) as r(k)
    where r.k > 2 or u.start_ms = u.floor_start_ms
),

points as (
    select interaction_key, listener, speaker, t, sum(dp) as dp, sum(dl) as dl
    from events
    group by all
),

states as (
    select
        *,
        sum(dp) over w > 0 and sum(dl) over w = 0 as listening,
        lead(t) over w as t_next
    from points
    window w as (partition by interaction_key, listener order by t rows unbounded preceding)
),

-- consecutive listening stretches between boundaries form one segment
islands as (
    select
        *,
        count(*) filter (where not listening) over (
            partition by interaction_key, listener order by t rows unbounded preceding
        ) as island
    from states
),

segments as (
    select interaction_key, listener, speaker, min(t) as start_ms, max(t_next) as end_ms
    from islands
    where listening
    group by interaction_key, listener, speaker, island
)

select
    s.interaction_key,
    s.listener as file_id,
    s.speaker as partner_file_id,
    s.start_ms / 1000.0 as start_s,
    least(s.end_ms, coalesce(cast(round(f.duration_s * 1000) as bigint), s.end_ms)) / 1000.0
        as end_s,
    'listening' as kind,
    least(s.end_ms, coalesce(cast(round(f.duration_s * 1000) as bigint), s.end_ms))
        - s.start_ms as duration_ms
from segments as s
left join files as f on f.interaction_key = s.interaction_key and f.file_id = s.listener
where least(s.end_ms, coalesce(cast(round(f.duration_s * 1000) as bigint), s.end_ms))
    - s.start_ms >= 2500
