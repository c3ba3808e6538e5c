with

questions as (
    select * from {{ ref('int_questions_identified_from_records') }}
),

quality as (
    select * from {{ ref('quality_ratings') }}
),

per_question as (
    select
        question_id,
        count(*) as n_quality_ratings,
        sum(quality_rating) as quality_sum,
        sum(quality_rating * quality_rating) as quality_square_sum,
        {{ median('quality_rating') }} as median_quality
    from quality
    group by question_id
),

per_question_spread as (
    -- Integer sums keep the statistics identical on every rebuild.
    select
        *,
        cast(quality_sum as {{ type_double() }}) / n_quality_ratings as mean_quality,
        case
            when n_quality_ratings > 1
                then cast(
                        n_quality_ratings * quality_square_sum - quality_sum * quality_sum
                        as {{ type_double() }}
                    ) / (n_quality_ratings * (n_quality_ratings - 1))
        end as quality_variance
    from per_question
),

final as (
    select
        questions.question_id,
        questions.question_text,
        questions.scopes,
        per_question_spread.mean_quality,
        per_question_spread.median_quality,
        sqrt(per_question_spread.quality_variance) as quality_std,
        coalesce(per_question_spread.n_quality_ratings, 0) as n_quality_ratings
    from questions
    left join per_question_spread
        on questions.question_id = per_question_spread.question_id
)

select * from final
