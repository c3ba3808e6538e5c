-- Asserts that every counted rating is an integer on the scale, by a rater who counts in the
-- rating study, of a pair of two different counted written responses of its question, with
-- its oriented value equal to the rating or its mirror (min + max - rating).

with

ratings as (
    select * from {{ ref('pair_ratings') }}
),

responses as (
    select * from {{ ref('written_responses') }}
),

participants as (
    select * from {{ ref('int_participants_joined_to_submissions') }}
),

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

violations as (
    select
        ratings.pair_id,
        ratings.rater_user_id,
        'scale' as broken_rule
    from ratings
    cross join settings
    where ratings.rating not between settings.scale_min and settings.scale_max

    union all

    select
        ratings.pair_id,
        ratings.rater_user_id,
        'orientation' as broken_rule
    from ratings
    cross join settings
    where
        ratings.oriented_rating <> case
            when ratings.is_mirrored then settings.scale_min + settings.scale_max - ratings.rating
            else ratings.rating
        end

    union all

    select
        ratings.pair_id,
        ratings.rater_user_id,
        'rater' as broken_rule
    from ratings
    left join participants
        on ratings.rater_user_id = participants.user_id
    where not coalesce(participants.is_counted_rater, false)

    union all

    select
        ratings.pair_id,
        ratings.rater_user_id,
        'responses' as broken_rule
    from ratings
    left join responses as response_1
        on ratings.response_1_id = response_1.response_id
    left join responses as response_2
        on ratings.response_2_id = response_2.response_id
    where
        response_1.response_id is null
        or response_2.response_id is null
        or ratings.response_1_id >= ratings.response_2_id
        or response_1.question_id <> ratings.question_id
        or response_2.question_id <> ratings.question_id
)

select * from violations
