with

ratings as (
    select * from {{ ref('int_ratings_oriented_to_pairs') }}
),

exclusions as (
    select * from {{ ref('exclusions') }}
    where item_type = 'rating'
),

participants as (
    select * from {{ ref('int_participants_joined_to_submissions') }}
),

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

counted as (
    select
        ratings.pair_id,
        ratings.rater_user_id,
        ratings.oriented_rating,
        sign(2 * ratings.oriented_rating - (settings.scale_min + settings.scale_max)) as side
    from ratings
    cross join settings
    where ratings.is_counted
),

pair_totals as (
    select
        pair_id,
        count(*) as n_ratings,
        sum(oriented_rating) as rating_sum,
        count(*) filter (where side < 0) as n_prefer_response_1,
        count(*) filter (where side > 0) as n_prefer_response_2,
        count(*) filter (where side = 0) as n_neutral
    from counted
    group by pair_id
),

against_others as (
    -- Each counted rating against the other raters of its pair (leave-one-out).
    select
        counted.pair_id,
        counted.rater_user_id,
        -- |r - mean of the others| = |n r - sum| / (n - 1)
        abs(pair_totals.n_ratings * counted.oriented_rating - pair_totals.rating_sum)
        / cast(pair_totals.n_ratings - 1 as double) as abs_deviation_from_others,
        counted.side,
        pair_totals.n_prefer_response_1 - case when counted.side < 0 then 1 else 0 end
            as others_prefer_response_1,
        pair_totals.n_prefer_response_2 - case when counted.side > 0 then 1 else 0 end
            as others_prefer_response_2,
        pair_totals.n_neutral - case when counted.side = 0 then 1 else 0 end as others_neutral
    from counted
    inner join pair_totals
        on counted.pair_id = pair_totals.pair_id
    where pair_totals.n_ratings >= 2
),

majority as (
    select
        *,
        case
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

per_rater_agreement as (
    select
        rater_user_id,
        count(*) as n_ratings_with_others,
        avg(abs_deviation_from_others order by pair_id) as mean_abs_deviation_from_others,
        count(*) filter (where others_majority_side is not null) as n_ratings_with_majority,
        count(*) filter (where side = others_majority_side) as n_agreeing_with_majority
    from majority
    group by rater_user_id
),

per_rater_counts as (
    select
        rater_user_id,
        count(*) filter (where is_counted) as n_counted_ratings
    from ratings
    group by rater_user_id
),

reason_counts as (
    select
        user_id as rater_user_id,
        exclusion_reason,
        count(*) as n_excluded
    from exclusions
    group by user_id, exclusion_reason
),

per_rater_exclusions as (
    select
        rater_user_id,
        sum(n_excluded) as n_excluded_ratings,
        string_agg(
            exclusion_reason || ': ' || n_excluded, ', ' order by exclusion_reason
        ) as exclusion_reasons
    from reason_counts
    group by rater_user_id
),

raters as (
    select rater_user_id from per_rater_counts
    union
    select rater_user_id from per_rater_exclusions
    where rater_user_id is not null
),

final as (
    select
        raters.rater_user_id,
        participants.username as rater_username,
        participants.prolific_pid,
        participants.rating_submission_statuses,
        coalesce(per_rater_counts.n_counted_ratings, 0) as n_counted_ratings,
        coalesce(per_rater_exclusions.n_excluded_ratings, 0) as n_excluded_ratings,
        per_rater_exclusions.exclusion_reasons,
        coalesce(per_rater_agreement.n_ratings_with_others, 0) as n_ratings_with_others,
        per_rater_agreement.mean_abs_deviation_from_others,
        case
            when per_rater_agreement.n_ratings_with_majority > 0
                then cast(per_rater_agreement.n_agreeing_with_majority as double)
                    / per_rater_agreement.n_ratings_with_majority
        end as majority_agreement,
        coalesce(per_rater_agreement.n_ratings_with_majority, 0) as n_ratings_with_majority,
        participants.rating_median_time_taken_seconds as median_time_taken_seconds,
        coalesce(participants.is_counted_rater, false) as is_counted_rater
    from raters
    left join participants
        on raters.rater_user_id = participants.user_id
    left join per_rater_counts
        on raters.rater_user_id = per_rater_counts.rater_user_id
    left join per_rater_exclusions
        on raters.rater_user_id = per_rater_exclusions.rater_user_id
    left join per_rater_agreement
        on raters.rater_user_id = per_rater_agreement.rater_user_id
)

select * from final
