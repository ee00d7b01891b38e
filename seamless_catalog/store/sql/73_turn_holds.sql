-- turn_holds: moments where a speaker keeps the floor across a silence, one row per Heldner & Edlund (2010) pause of turn_events (silence between two IPUs of one speaker, the partner silent, ipu_bridge_ms=200, vad_pad_ms=30); start_s/end_s = the pause (seconds), file_id null (a pair moment: both sides), kind 'hold', speaker and speaker_file_id, vap = also a Voice Activity Projection hold (1 s of that speaker's single-speaker activity before and after, at least 3 s in; see turn_events)
create or replace view turn_holds as
select
    interaction_key,
    cast(null as varchar) as file_id,
    start_ms / 1000.0 as start_s,
    end_ms / 1000.0 as end_s,
    'hold' as kind,
    from_speaker as speaker,
    from_file_id as speaker_file_id,
    end_ms - start_ms as pause_ms,
    vap
from turn_events
where kind = 'pause'
