-- moments: every moment view in one: turn_shifts, turn_holds (file_id null: a pair moment, a window covers both sides), backchannels, listening_segments, annotation_moments and ipu_moments (file_id = the side it belongs to); kind names the view ('shift', 'hold', 'backchannel', 'listening', 'annotation', 'ipu'), detail its variant (the Heldner & Edlund interval of a shift or hold, the perspective '1P'/'3P' of an annotation), vap whether the Voice Activity Projection rule holds (shifts, holds, backchannels; null for the others); start_s/end_s in seconds
create or replace view moments as
-- the rows of turn_shifts (kind 'shift', detail = its interval) and turn_holds ('hold',
-- 'pause') read from the turn_events both select from: one reading, a plan half as long
select interaction_key, cast(null as varchar) as file_id, cast(null as varchar) as partner_file_id,
    start_ms / 1000.0 as start_s, end_ms / 1000.0 as end_s,
    case kind when 'pause' then 'hold' else 'shift' end as kind, kind as detail, vap
from turn_events
union all
select interaction_key, file_id, partner_file_id, start_s, end_s, kind, null, vap
from backchannels
union all
select interaction_key, file_id, partner_file_id, start_s, end_s, kind, null, null
from listening_segments
union all
select interaction_key, file_id, partner_file_id, start_s, end_s, kind, perspective, null
from annotation_moments
union all
select interaction_key, file_id, partner_file_id, start_s, end_s, kind, null, null
from ipu_moments
