-- speech_activity: per file of `files`: speech_s (union of its VAD segments after normalising in integer ms: end<=start dropped and counted, clipped to duration, touching/overlapping merged; 0 for an empty VAD list, null when no VAD was ingested), n_vad_segments, n_dropped_segments, speech_ratio, IPUs with ipu_bridge_ms=200 (median_ipu_s = exact median), n_words, words_per_min_speech (null below 10 s of speech), n_ipus_without_words (no word midpoint inside the IPU); times include Silero's vad_pad_ms=30 padding
create or replace view speech_activity as
with docs as (
    select file_id, bool_or(transcript_present) as transcript_present
    from raw.documents
    group by file_id
),

speech as (
    select file_id, sum(end_ms - start_ms) as speech_ms
    from speech_segments
    group by file_id
),

ipu_stats as (
    select file_id, count(*) as n_ipus, median(duration_ms) / 1000.0 as median_ipu_s
    from ipus
    group by file_id
),

-- files of `files` get a dense integer id: the ASOF join below sorts the words by it, not by text
ids as (
    select file_id, cast(row_number() over (order by file_id) as integer) as fid
    from (select distinct file_id from files)
),

word_points as (
    select i.fid, cast(round((w.start_s + w.end_s) * 500) as bigint) as mid_ms
    from raw.transcript_words as w
    join ids as i on i.file_id = w.file_id
    where w.start_s is not null and w.end_s is not null
),

word_counts as (
    select file_id, count(*) as n_words
    from raw.transcript_words
    group by file_id
),

-- an IPU has a word when the last word midpoint at or before its end lies at or after its start
ipus_without_words as (
    select
        i.file_id,
        count(*) filter (where w.mid_ms is null or w.mid_ms < u.start_ms) as n
    from ipus as u
    join ids as i on i.file_id = u.file_id
    asof left join word_points as w on w.fid = i.fid and w.mid_ms <= u.end_ms
    group by i.file_id
),

known as (
    select
        f.file_id,
        f.duration_s,
        v.file_id is not null as vad_known,
        wc.file_id is not null or coalesce(d.transcript_present, false) as words_known,
        coalesce(v.n_vad_segments, 0) as n_vad_segments,
        coalesce(v.n_dropped_segments, 0) as n_dropped_segments
    from files as f
    left join vad_files as v on v.file_id = f.file_id
    left join docs as d on d.file_id = f.file_id
    left join word_counts as wc on wc.file_id = f.file_id
)

select
    k.file_id,
    case when k.vad_known then coalesce(s.speech_ms, 0) / 1000.0 end as speech_s,
    case when k.vad_known then k.n_vad_segments end as n_vad_segments,
    case when k.vad_known then k.n_dropped_segments end as n_dropped_segments,
    case when k.vad_known and k.duration_s > 0
        then coalesce(s.speech_ms, 0) / 1000.0 / k.duration_s end as speech_ratio,
    case when k.vad_known then coalesce(i.n_ipus, 0) end as n_ipus,
    i.median_ipu_s,
    case when k.words_known then coalesce(wc.n_words, 0) end as n_words,
    case when k.words_known and s.speech_ms >= 10000
        then coalesce(wc.n_words, 0) * 60000.0 / s.speech_ms end as words_per_min_speech,
    case when k.words_known and k.vad_known then coalesce(nw.n, 0) end as n_ipus_without_words
from known as k
left join speech as s on s.file_id = k.file_id
left join ipu_stats as i on i.file_id = k.file_id
left join word_counts as wc on wc.file_id = k.file_id
left join ipus_without_words as nw on nw.file_id = k.file_id
