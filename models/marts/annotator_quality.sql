with

rater_sums as (
    select * from {{ ref('int_rater_agreement_summed_by_pair_size') }}
),

exclusions as (
    select * from {{ ref('exclusions') }}
    where item_type = 'rating'
),

participants as (
    select * from {{ ref('int_participants_joined_to_submissions') }}
),

per_rater_agreement as (
    -- Against the other raters of their pairs: pairs with two or more counted ratings.
    select
        rater_user_id,
        cast(sum(n_counted_ratings) as bigint) as n_ratings_with_others,
        {{ ordered_sum(
            'cast(scaled_abs_deviation as ' ~ type_double() ~ ') / (n_ratings - 1)', 'n_ratings'
        ) }} / sum(n_counted_ratings) as mean_abs_deviation_from_others,
        cast(sum(n_ratings_with_majority) as bigint) as n_ratings_with_majority,
        cast(sum(n_agreeing_with_majority) as bigint) as n_agreeing_with_majority
    from rater_sums
    where n_ratings >= 2
    group by rater_user_id
),

per_rater_counts as (
    select
        rater_user_id,
        cast(sum(n_counted_ratings) as bigint) as n_counted_ratings
    from rater_sums
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
        cast(sum(n_excluded) as bigint) as n_excluded_ratings,
        {{ string_agg_sorted(
            "exclusion_reason || ': ' || n_excluded", "', '", 'exclusion_reason'
        ) }} as exclusion_reasons
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
        participants.rating_submission_statuses,
        coalesce(per_rater_counts.n_counted_ratings, 0) as n_counted_ratings,
        coalesce(per_rater_exclusions.n_excluded_ratings, 0) as n_excluded_ratings,
        per_rater_exclusions.exclusion_reasons,
        coalesce(per_rater_agreement.n_ratings_with_others, 0) as n_ratings_with_others,
        per_rater_agreement.mean_abs_deviation_from_others,
        case
            when per_rater_agreement.n_ratings_with_majority > 0
                then cast(per_rater_agreement.n_agreeing_with_majority as {{ type_double() }})
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
