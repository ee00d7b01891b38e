-- frame_rates: per file and npz feature group (smplh, boxes_and_keypoints, movement, movement_v4), the frame rate from evidence: n_frames (the group's longest per-frame array; movement:hypernet_features, one row per 15 frames, left out) over media_duration_s (wav header, else mp4 mvhd; placeholders ignored) gives observed_fps; nominal_fps is 30 Hz, 30000/1001 = 29.97 for V03; the rule (rate_rule): counts within fps_tolerance = greatest(6 frames, 2%) of nominal_fps x duration -> clip_fps = nominal_fps ('nominal'); else contradicts_nominal and, when the count is that close to k x nominal for a whole k >= 2 (the 240 Hz SMPL-H of upstream issue #34: 8 x 30), clip_fps = k x nominal_fps ('multiple'), otherwise clip_fps = observed_fps ('observed': the frames spread over the recording); no wav or mp4 duration -> nominal_fps unchecked ('nominal_unchecked', contradicts_nominal null); no frames -> clip_fps null ('no_frames'); a clip maps frame f to [f/clip_fps, (f+1)/clip_fps); media_agree = wav and mp4 durations within 0.5 s (null unless both known); keys_agree = every per-frame array of the group has n_frames
create or replace view frame_rates as
with groups as (
    select
        file_id,
        split_part(key, ':', 1) as feature_group,
        max(n_frames) as n_frames,
        min(n_frames) = max(n_frames) as keys_agree
    from raw.features
    where n_frames is not null and key not like '%:hypernet_features'
    group by all
),

media as (
    select
        file_id,
        max(duration_s) filter (where ext = 'wav' and not placeholder) as wav_duration_s,
        max(duration_s) filter (where ext = 'mp4' and not placeholder) as mp4_duration_s
    from raw.media
    group by file_id
),

evidence as (
    select
        g.file_id,
        f.vendor,
        g.feature_group,
        g.n_frames,
        g.keys_agree,
        coalesce(m.wav_duration_s, m.mp4_duration_s) as media_duration_s,
        case when m.wav_duration_s is not null then 'wav'
             when m.mp4_duration_s is not null then 'mp4' end as duration_source,
        abs(m.wav_duration_s - m.mp4_duration_s) <= 0.5 as media_agree,
        case when f.vendor = 'V03' then 30000.0 / 1001 else 30.0 end as nominal_fps
    from groups as g
    join files as f on f.file_id = g.file_id
    left join media as m on m.file_id = g.file_id
),

judged as (
    select
        *,
        case when media_duration_s > 0 then n_frames / media_duration_s end as observed_fps,
        nominal_fps * media_duration_s as expected_frames,
        greatest(6, 0.02 * nominal_fps * media_duration_s) as tolerance_frames,
        case when media_duration_s > 0
            then round(n_frames / media_duration_s / nominal_fps) end as k
    from evidence
),

ruled as (
    select
        *,
        case
            when n_frames = 0 then 'no_frames'
            when media_duration_s is null or media_duration_s <= 0 then 'nominal_unchecked'
            when abs(n_frames - expected_frames) <= tolerance_frames then 'nominal'
            when k >= 2 and abs(n_frames - k * expected_frames) <= k * tolerance_frames
                then 'multiple'
            else 'observed'
        end as rate_rule
    from judged
)

select
    file_id,
    vendor,
    feature_group,
    n_frames,
    media_duration_s,
    duration_source,
    observed_fps,
    nominal_fps,
    case rate_rule
        when 'no_frames' then null
        when 'multiple' then k * nominal_fps
        when 'observed' then observed_fps
        else nominal_fps
    end as clip_fps,
    rate_rule,
    case
        when rate_rule in ('multiple', 'observed') then true
        when rate_rule = 'nominal' then false
    end as contradicts_nominal,
    cast(round(n_frames - expected_frames) as bigint) as frames_off_nominal,
    media_agree,
    keys_agree
from ruled
