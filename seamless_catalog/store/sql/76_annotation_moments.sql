-- annotation_moments: the 1P and 3P moments of interest of each annotated file, one row per moment: its IS (internal state), R (rationale) and V (visual cues, 3P only) lines joined on their whole-second timestamps (start_ts, end_ts), never on line order (the release orders them differently per type); when several lines of one type share a moment's timestamps they pair up in line order; texts as given (trailing spaces kept), null where a type has no line; n_lines = the lines joined; file_id = the annotated participant, partner_file_id = the other side of the pair (null for a singleton): a window by interaction_key covers both
create or replace view annotation_moments as
with lines as (
    select
        file_id,
        left(annotation_type, 2) as perspective,
        substr(annotation_type, 4) as part,
        start_s,
        end_s,
        text,
        row_number() over (
            partition by file_id, annotation_type, start_s, end_s order by annotation_idx
        ) as k
    from raw.annotations
),

moments as (
    select
        file_id,
        perspective,
        start_s,
        end_s,
        max(text) filter (where part = 'IS') as internal_state,
        max(text) filter (where part = 'R') as rationale,
        max(text) filter (where part = 'V') as visual,
        count(*) as n_lines
    from lines
    group by file_id, perspective, start_s, end_s, k
),

sides as (
    select file_id_a as file_id, file_id_b as partner_file_id from pairs
    union all
    select file_id_b, file_id_a from pairs
)

select
    f.interaction_key,
    m.file_id,
    s.partner_file_id,
    m.start_s,
    m.end_s,
    'annotation' as kind,
    m.perspective,
    m.internal_state,
    m.rationale,
    m.visual,
    cast(m.n_lines as integer) as n_lines
from moments as m
join files as f on f.file_id = m.file_id
left join sides as s on s.file_id = m.file_id
