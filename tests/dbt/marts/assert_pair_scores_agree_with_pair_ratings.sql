-- Asserts that every rated pair has exactly one pair_scores row whose count and mean are those
-- of its counted ratings, and that no pair without a counted rating has one.
with

ratings as (
    select
        pair_id,
        count(*) as n_ratings,
        avg(oriented_rating) as mean_rating
    from {{ ref('pair_ratings') }}
    group by pair_id
),

scores as (
    select * from {{ ref('pair_scores') }}
)

select
    coalesce(ratings.pair_id, scores.pair_id) as pair_id,
    ratings.n_ratings as expected_n_ratings,
    scores.n_ratings
from ratings
full outer join scores
    on ratings.pair_id = scores.pair_id
where
    ratings.pair_id is null
    or scores.pair_id is null
    or ratings.n_ratings <> scores.n_ratings
    or abs(ratings.mean_rating - scores.mean_rating) > 1e-12
