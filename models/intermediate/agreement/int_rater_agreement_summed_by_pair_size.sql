{#-
    Each rater's counted ratings against the other raters of their pairs, summed per pair size
    (the pair's number of counted ratings): the state `annotator_quality` is computed from.
    Integer sums only, so a mean taken from them is the same on every rebuild.
-#}

with

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

units as (
    -- Each rated pair once: its overall row, or its only dataset row.
    select * from {{ ref('int_coded_values_grouped_by_unit') }}
    where study = 'rating' and (scope = 'overall' or n_unit_scopes = 1)
),

pair_totals as (
    select
        units.n_unit_values as n_ratings,
        units.sum_x as rating_sum,
        units.coder_ids,
        units.coded_values,
        settings.scale_min + settings.scale_max as scale_ends_sum
    from units
    cross join settings
),

pair_sides as (
    -- A value below the scale's midpoint prefers response 1, above it response 2.
    select
        *,
        {{ list_count_where('coded_values', 'v', '2 * v < scale_ends_sum') }}
            as n_prefer_response_1,
        {{ list_count_where('coded_values', 'v', '2 * v > scale_ends_sum') }}
            as n_prefer_response_2
    from pair_totals
),

counted as (
    -- Every counted rating (the lists are in step: the i-th rater gave the i-th value).
    select
        n_ratings,
        rating_sum,
        n_prefer_response_1,
        n_prefer_response_2,
        n_ratings - n_prefer_response_1 - n_prefer_response_2 as n_neutral,
        scale_ends_sum,
        {{ unnest_zipped(['coder_ids', 'coded_values'], ['rater_user_id', 'oriented_rating']) }}
    from pair_sides
),

against_others as (
    -- Each counted rating against the other raters of its pair (leave-one-out); a rating
    -- alone in its pair is only counted.
    select
        rater_user_id,
        n_ratings,
        -- |r - mean of the others| = |n r - sum| / (n - 1): the integer part is summed per
        -- pair size, so the mean is exact up to one division per size.
        abs(n_ratings * oriented_rating - rating_sum) as scaled_abs_deviation,
        sign(2 * oriented_rating - scale_ends_sum) as side,
        n_prefer_response_1
        - case when 2 * oriented_rating < scale_ends_sum then 1 else 0 end
            as others_prefer_response_1,
        n_prefer_response_2
        - case when 2 * oriented_rating > scale_ends_sum then 1 else 0 end
            as others_prefer_response_2,
        n_neutral - case when 2 * oriented_rating = scale_ends_sum then 1 else 0 end
            as others_neutral
    from counted
),

majority as (
    select
        *,
        case
            when n_ratings < 2 then null
            when
                others_prefer_response_1 > others_prefer_response_2
                and others_prefer_response_1 > others_neutral
                then -1
            when
                others_prefer_response_2 > others_prefer_response_1
                and others_prefer_response_2 > others_neutral
                then 1
            when
                others_neutral > others_prefer_response_1
                and others_neutral > others_prefer_response_2
                then 0
        end as others_majority_side
    from against_others
),

final as (
    select
        rater_user_id,
        n_ratings,
        count(*) as n_counted_ratings,
        cast(sum(scaled_abs_deviation) as bigint) as scaled_abs_deviation,
        count(others_majority_side) as n_ratings_with_majority,
        count(*) filter (where side = others_majority_side) as n_agreeing_with_majority
    from majority
    group by rater_user_id, n_ratings
)

select * from final
