-- One row per landed item of either study, counted or not, with its unit and participant:
-- a written response (unit: its question) or a rating (unit: its pair).

with

written as (
    select * from {{ ref('int_written_responses_evaluated') }}
),

ratings as (
    select * from {{ ref('int_ratings_oriented_to_pairs') }}
),

final as (
    select
        'writing' as study,
        workspace,
        dataset,
        question_id as unit_id,
        writer_user_id as user_id,
        is_counted
    from written

    union all

    select
        'rating' as study,
        workspace,
        dataset,
        pair_id as unit_id,
        rater_user_id as user_id,
        is_counted
    from ratings
)

select * from final
