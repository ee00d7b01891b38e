-- moments: every moment view in one: turn_shifts, turn_holds (file_id null: a pair moment, a window covers both sides), backchannels, listening_segments, annotation_moments and ipu_moments (file_id = the side it belongs to); kind names the view ('shift', 'hold', 'backchannel', 'listening', 'annotation', 'ipu'), detail its variant (the Heldner & Edlund interval of a shift or hold, the perspective '1P'/'3P' of an annotation), vap whether the Voice Activity Projection rule holds (shifts, holds, backchannels; null for the others); start_s/end_s in seconds
create or replace view moments as
select interaction_key, file_id, cast(null as varchar) as partner_file_id, start_s, end_s,
    kind, interval as detail, vap
from turn_shifts
union all
select interaction_key, file_id, null, start_s, end_s, kind, 'pause', vap
from turn_holds
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
