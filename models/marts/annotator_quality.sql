with

units as (
    -- Each rated pair once: its overall row, or its only dataset row.
    select * from {{ ref('int_coded_values_grouped_by_unit') }}
    where study = 'rating' and (scope = 'overall' or n_unit_scopes = 1)
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

pair_totals as (
    select
        units.unit_id as pair_id,
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
        len(list_filter(coded_values, lambda v: 2 * v < scale_ends_sum)) as n_prefer_response_1,
        len(list_filter(coded_values, lambda v: 2 * v > scale_ends_sum)) as n_prefer_response_2
    from pair_totals
),

counted as (
    -- Every counted rating (the lists are in step: the i-th rater gave the i-th value).
    select
        pair_id,
        n_ratings,
        rating_sum,
        n_prefer_response_1,
        n_prefer_response_2,
        n_ratings - n_prefer_response_1 - n_prefer_response_2 as n_neutral,
        scale_ends_sum,
        unnest(coder_ids) as rater_user_id,
        unnest(coded_values) as oriented_rating
    from pair_sides
),

against_others as (
    -- Each counted rating against the other raters of its pair (leave-one-out).
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
    where n_ratings >= 2
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

per_rater_and_pair_size as (
    select
        rater_user_id,
        n_ratings,
        count(*) as n_ratings_with_others,
        sum(scaled_abs_deviation) as scaled_abs_deviation,
        count(*) filter (where others_majority_side is not null) as n_ratings_with_majority,
        count(*) filter (where side = others_majority_side) as n_agreeing_with_majority
    from majority
    group by rater_user_id, n_ratings
),

per_rater_agreement as (
    select
        rater_user_id,
        sum(n_ratings_with_others) as n_ratings_with_others,
        sum(
            cast(scaled_abs_deviation as double) / (n_ratings - 1) order by n_ratings
        ) / sum(n_ratings_with_others) as mean_abs_deviation_from_others,
        sum(n_ratings_with_majority) as n_ratings_with_majority,
        sum(n_agreeing_with_majority) as n_agreeing_with_majority
    from per_rater_and_pair_size
    group by rater_user_id
),

per_rater_counts as (
    select
        rater_user_id,
        count(*) as n_counted_ratings
    from counted
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
