{#-
    The counted question-quality ratings (question x writer): the one definition of a counted
    quality rating that `question_quality` and agreement read. Ids only: no usernames or
    Prolific ids (personal data stays out of the analysts' marts).
-#}

with

quality as (
    select * from {{ ref('int_quality_ratings_evaluated') }}
    where is_counted
),

final as (
    select
        question_id,
        writer_user_id as rater_user_id,
        dataset,
        workspace,
        record_id,
        quality_rating,
        rated_at
    from quality
)

select * from final
