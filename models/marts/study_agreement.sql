with

pair_ratings as (
    select * from {{ ref('pair_ratings') }}
),

quality as (
    select * from {{ ref('int_quality_ratings_evaluated') }}
    where is_counted
),

agreement_values as (
    -- Rating study: units are pairs, coders raters, values oriented ratings.
    -- Writing study: units are questions, coders writers, values question-quality ratings.
    select
        'rating' as study,
        workspace,
        dataset,
        pair_id as unit_id,
        rater_user_id as coder_id,
        oriented_rating as coded_value
    from pair_ratings

    union all

    select
        'writing' as study,
        workspace,
        dataset,
        question_id as unit_id,
        writer_user_id as coder_id,
        quality_rating as coded_value
    from quality
),

{{ krippendorff_alpha('agreement_values') }}

select * from alpha
