with

ratings as (
    select * from {{ ref('int_ratings_oriented_to_pairs') }}
    where is_counted
),

final as (
    select
        pair_id,
        question_id,
        rater_user_id,
        response_1_id,
        response_2_id,
        response_a_id,
        dataset,
        workspace,
        record_id,
        rating,
        oriented_rating,
        is_swapped,
        is_mirrored,
        rated_at
    from ratings
)

select * from final
