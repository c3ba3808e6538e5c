-- Asserts that every counted written response is submitted (or status-less from a source that
-- counts those), by a writer who counts in the writing study, non-blank after trimming, and
-- the only counted answer of its writer to its question.
with

written as (
    select * from {{ ref('written_responses') }}
),

evaluated as (
    select * from {{ ref('int_written_responses_evaluated') }}
),

participants as (
    select * from {{ ref('int_participants_joined_to_submissions') }}
),

violations as (
    select
        written.response_id,
        'status' as broken_rule
    from written
    inner join evaluated
        on written.response_id = evaluated.response_id and evaluated.is_counted
    where
        coalesce(evaluated.response_status, 'none') not in ('submitted', 'none')
        or (evaluated.response_status is null and evaluated.status_if_missing = 'exclude')

    union all

    select
        written.response_id,
        'writer' as broken_rule
    from written
    left join participants
        on written.writer_user_id = participants.user_id
    where not coalesce(participants.is_counted_writer, false)

    union all

    select
        response_id,
        'blank' as broken_rule
    from written
    -- A blank text is empty (ascii 0) or starts with ASCII whitespace (9-13, 32): that cheap
    -- test first spares almost every text the normalization (it cost this test most).
    where
        ascii(response_text) <= 32
        and {{ normalize_text('response_text') }} = ''

    union all

    select
        response_id,
        'duplicate' as broken_rule
    from written
    group by response_id
    having count(*) > 1
)

select * from violations
