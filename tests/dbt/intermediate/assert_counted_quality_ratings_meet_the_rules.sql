-- Asserts that every counted question-quality rating is an integer on the quality scale,
-- submitted (or status-less from a source that counts those), by a counted writer, and the
-- only counted quality rating of its writer for its question.
with

quality as (
    select * from {{ ref('int_quality_ratings_evaluated') }}
    where is_counted
),

joined as (
    select * from {{ ref('int_writing_responses_joined_to_participants') }}
    where item_type = 'question_quality'
),

violations as (
    select quality.row_sha256
    from quality
    inner join joined
        on quality.row_sha256 = joined.row_sha256
    where
        quality.quality_rating is null
        or quality.quality_rating not between quality.quality_min and quality.quality_max
        or not joined.is_counted_writer
        or coalesce(joined.response_status, 'none') not in ('submitted', 'none')
        or (joined.response_status is null and joined.status_if_missing = 'exclude')

    union all

    select min(row_sha256) as row_sha256
    from quality
    group by question_id, writer_user_id
    having count(*) > 1
)

select * from violations
