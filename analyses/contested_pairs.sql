-- The pairs raters disagree on most (many ratings, a mean near the midpoint, a wide spread),
-- with each rater's oriented rating: a starting point for reviewing rating guidelines.
-- `dbt compile --select contested_pairs` writes the SQL to run against the warehouse.
with

pair_scores as (
    select * from {{ ref('pair_scores') }}
),

pair_ratings as (
    select * from {{ ref('pair_ratings') }}
),

contested as (
    select
        pair_id,
        question_text,
        response_1_text,
        response_2_text,
        n_ratings,
        mean_rating,
        rating_std,
        agreement
    from pair_scores
    where n_ratings >= 3
    order by agreement asc, rating_std desc, pair_id asc
    limit 50
),

final as (
    select
        contested.*,
        string_agg(
            pair_ratings.rater_user_id || '=' || pair_ratings.oriented_rating, ', '
            order by pair_ratings.rater_user_id
        ) as oriented_ratings
    from contested
    inner join pair_ratings
        on contested.pair_id = pair_ratings.pair_id
    group by
        contested.pair_id,
        contested.question_text,
        contested.response_1_text,
        contested.response_2_text,
        contested.n_ratings,
        contested.mean_rating,
        contested.rating_std,
        contested.agreement
)

select * from final
