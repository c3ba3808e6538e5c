with

ratings as (
    select * from {{ ref('pair_ratings') }}
),

responses as (
    select * from {{ ref('written_responses') }}
),

questions as (
    select * from {{ ref('int_questions_identified_from_records') }}
),

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

per_pair as (
    -- Integer sums keep the mean, spread and tie test exact and identical on every rebuild.
    select
        ratings.pair_id,
        ratings.question_id,
        ratings.response_1_id,
        ratings.response_2_id,
        settings.scale_min,
        settings.scale_max,
        count(*) as n_ratings,
        sum(ratings.oriented_rating) as rating_sum,
        sum(ratings.oriented_rating * ratings.oriented_rating) as rating_square_sum,
        -- Lists, reduced below: a median and a distinct aggregate per group made this grouping
        -- take twice as long.
        {{ unordered_list_agg('ratings.oriented_rating') }} as ratings_given,
        count(*) filter (
            where 2 * ratings.oriented_rating < settings.scale_min + settings.scale_max
        ) as n_prefer_response_1,
        count(*) filter (
            where 2 * ratings.oriented_rating > settings.scale_min + settings.scale_max
        ) as n_prefer_response_2,
        count(*) filter (
            where 2 * ratings.oriented_rating = settings.scale_min + settings.scale_max
        ) as n_neutral,
        -- A pair's scopes: nearly always one, read off these; a list only for the others
        -- (a list of every rating's scope made this grouping take twice as long).
        min(ratings.workspace) as min_workspace,
        max(ratings.workspace) as max_workspace,
        min(ratings.dataset) as min_dataset,
        max(ratings.dataset) as max_dataset
    from ratings
    cross join settings
    group by
        ratings.pair_id,
        ratings.question_id,
        ratings.response_1_id,
        ratings.response_2_id,
        settings.scale_min,
        settings.scale_max
),

multi_scope_pairs as (
    select
        ratings.pair_id,
        {{ distinct_sorted_list_agg("ratings.workspace || '/' || ratings.dataset") }} as scope_list
    from ratings
    inner join per_pair
        on ratings.pair_id = per_pair.pair_id
    where
        per_pair.min_workspace <> per_pair.max_workspace
        or per_pair.min_dataset <> per_pair.max_dataset
    group by ratings.pair_id
),

scoped as (
    select
        per_pair.*,
        coalesce({{ list_length('multi_scope_pairs.scope_list') }}, 1) as n_scopes,
        coalesce(
            {{ list_to_text('multi_scope_pairs.scope_list', "', '") }},
            per_pair.min_workspace || '/' || per_pair.min_dataset
        ) as scopes
    from per_pair
    left join multi_scope_pairs
        on per_pair.pair_id = multi_scope_pairs.pair_id
),

scored as (
    select
        pair_id,
        question_id,
        response_1_id,
        response_2_id,
        scale_min,
        scale_max,
        n_ratings,
        n_prefer_response_1,
        n_prefer_response_2,
        n_neutral,
        {{ list_median('ratings_given') }} as median_rating,
        n_scopes,
        scopes,
        cast(rating_sum as {{ type_double() }}) / n_ratings as mean_rating,
        case
            when n_ratings > 1
                then cast(
                        n_ratings * rating_square_sum - rating_sum * rating_sum
                        as {{ type_double() }}
                    )
                    / (n_ratings * (n_ratings - 1))
        end as rating_variance,
        cast(scale_min + scale_max as {{ type_double() }}) / 2 as scale_midpoint,
        2 * rating_sum = n_ratings * (scale_min + scale_max) as is_tie,
        case
            when 2 * rating_sum < n_ratings * (scale_min + scale_max) then response_1_id
            when 2 * rating_sum > n_ratings * (scale_min + scale_max) then response_2_id
        end as preferred_response_id,
        cast(greatest(n_prefer_response_1, n_prefer_response_2, n_neutral) as {{ type_double() }})
        / n_ratings as agreement,
        -- The ratings on the side the mean prefers (none on a tie), a double: divided by
        -- n_ratings below, where an integer division would truncate on some engines.
        cast(case
            when 2 * rating_sum < n_ratings * (scale_min + scale_max) then n_prefer_response_1
            when 2 * rating_sum > n_ratings * (scale_min + scale_max) then n_prefer_response_2
        end as {{ type_double() }}) as n_on_preferred_side
    from scoped
),

ranked as (
    -- What orders pairs of equal margin: the standard error of the mean, and the Wilson score
    -- lower bound (95%, z = 1.96) of the share of raters on the preferred side, which ranks
    -- unanimous pairs by how many raters agreed (their standard error is 0).
    select
        *,
        sqrt(rating_variance / n_ratings) as rating_se,
        (
            n_on_preferred_side / n_ratings + 1.96 * 1.96 / (2 * n_ratings)
            - 1.96 * sqrt(
                n_on_preferred_side * (n_ratings - n_on_preferred_side) / n_ratings
                + 1.96 * 1.96 / 4
            ) / n_ratings
        ) / (1 + 1.96 * 1.96 / n_ratings) as preferred_share_lower_bound
    from scored
),

final as (
    select
        ranked.pair_id,
        ranked.question_id,
        questions.question_text,
        ranked.response_1_id,
        ranked.response_2_id,
        response_1.response_text as response_1_text,
        response_2.response_text as response_2_text,
        response_1.writer_user_id as response_1_writer_user_id,
        response_2.writer_user_id as response_2_writer_user_id,
        ranked.preferred_response_id,
        ranked.scopes,
        ranked.n_scopes,
        ranked.n_ratings,
        ranked.n_prefer_response_1,
        ranked.n_prefer_response_2,
        ranked.n_neutral,
        ranked.mean_rating,
        ranked.median_rating,
        sqrt(ranked.rating_variance) as rating_std,
        ranked.rating_se,
        abs(ranked.mean_rating - ranked.scale_midpoint) as margin,
        ranked.agreement,
        ranked.preferred_share_lower_bound,
        ranked.scale_min,
        ranked.scale_max,
        ranked.scale_midpoint,
        ranked.is_tie
    from ranked
    inner join questions
        on ranked.question_id = questions.question_id
    inner join responses as response_1
        on ranked.response_1_id = response_1.response_id
    inner join responses as response_2
        on ranked.response_2_id = response_2.response_id
)

select * from final
