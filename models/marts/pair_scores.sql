{#-
    Row-level memo (macros/memo.sql, `memo_merge`): when only the ratings changed since the last
    build, only the pairs whose counted ratings changed are scored and written again (found by
    `ratings_fingerprint`); a pair left without counted ratings leaves a tombstone (a row without
    `n_ratings`). The changed pairs are those of the groups the last merge of the oriented
    ratings wrote, when that is all that changed since the last build.
-#}
{%- set memo = memo_reusable_rows(
    exclude=['int_ratings_oriented_to_pairs'], changes_from=['int_ratings_oriented_to_pairs']
) -%}
{{- memo_delta_marker(memo) }}
{%- set fingerprint -%}
    sum(hash(
        ratings.rater_user_id, ratings.oriented_rating, ratings.workspace, ratings.dataset,
        ratings.question_id, ratings.response_1_id, ratings.response_2_id
    ))
{%- endset %}

with

ratings as (
    -- What `pair_ratings` shows, read from its table: a view's tests would hold this model
    -- back in `dbt build`, on the refresh's critical path.
    select * from {{ ref('int_ratings_oriented_to_pairs') }}
    where is_counted
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

{% if memo.changes is not none %}
    -- rlhfw-memo: from upstream changes
    changed_pairs as (
        select distinct changed_ratings.pair_id
        from {{ memo.changes['int_ratings_oriented_to_pairs'] }} as changed_ratings
        where changed_ratings.pair_id is not null
    ),

    ratings_to_score as (
        select ratings.*
        from ratings
        semi join changed_pairs
            on ratings.pair_id = changed_pairs.pair_id
    ),

    gone as (
        select changed_pairs.pair_id
        from changed_pairs
        anti join ratings_to_score
            on changed_pairs.pair_id = ratings_to_score.pair_id
    ),
{% elif memo.previous is not none %}
    current_fingerprints as (
        select
            ratings.pair_id,
            {{ fingerprint }} as ratings_fingerprint
        from ratings
        group by ratings.pair_id
    ),

    changed_pairs as (
        select coalesce(current_fingerprints.pair_id, previous_build.pair_id) as pair_id
        from current_fingerprints
        full outer join {{ memo.previous }} as previous_build
            on current_fingerprints.pair_id = previous_build.pair_id
        where
            current_fingerprints.ratings_fingerprint
            is distinct from previous_build.ratings_fingerprint
    ),

    ratings_to_score as (
        select ratings.*
        from ratings
        inner join changed_pairs
            on ratings.pair_id = changed_pairs.pair_id
    ),

    gone as (
        select changed_pairs.pair_id
        from changed_pairs
        left join current_fingerprints
            on changed_pairs.pair_id = current_fingerprints.pair_id
        where current_fingerprints.pair_id is null
    ),
{% else %}
    ratings_to_score as (
        select * from ratings
    ),
{% endif %}

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
        median(ratings.oriented_rating) as median_rating,
        count(*) filter (
            where 2 * ratings.oriented_rating < settings.scale_min + settings.scale_max
        ) as n_prefer_response_1,
        count(*) filter (
            where 2 * ratings.oriented_rating > settings.scale_min + settings.scale_max
        ) as n_prefer_response_2,
        count(*) filter (
            where 2 * ratings.oriented_rating = settings.scale_min + settings.scale_max
        ) as n_neutral,
        count(distinct ratings.workspace || '/' || ratings.dataset) as n_scopes,
        string_agg(
            distinct ratings.workspace || '/' || ratings.dataset, ', '
            order by ratings.workspace || '/' || ratings.dataset
        ) as scopes,
        {{ fingerprint }} as ratings_fingerprint
    from ratings_to_score as ratings
    cross join settings
    group by
        ratings.pair_id,
        ratings.question_id,
        ratings.response_1_id,
        ratings.response_2_id,
        settings.scale_min,
        settings.scale_max
),

scored as (
    select
        *,
        cast(rating_sum as double) / n_ratings as mean_rating,
        case
            when n_ratings > 1
                then cast(n_ratings * rating_square_sum - rating_sum * rating_sum as double)
                    / (n_ratings * (n_ratings - 1))
        end as rating_variance,
        (scale_min + scale_max) / 2.0 as scale_midpoint,
        2 * rating_sum = n_ratings * (scale_min + scale_max) as is_tie,
        case
            when 2 * rating_sum < n_ratings * (scale_min + scale_max) then response_1_id
            when 2 * rating_sum > n_ratings * (scale_min + scale_max) then response_2_id
        end as preferred_response_id,
        cast(greatest(n_prefer_response_1, n_prefer_response_2, n_neutral) as double)
        / n_ratings as agreement
    from per_pair
),

final as (
    select
        scored.pair_id,
        scored.question_id,
        questions.question_text,
        scored.response_1_id,
        scored.response_2_id,
        response_1.response_text as response_1_text,
        response_2.response_text as response_2_text,
        response_1.writer_user_id as response_1_writer_user_id,
        response_2.writer_user_id as response_2_writer_user_id,
        scored.preferred_response_id,
        scored.scopes,
        scored.n_scopes,
        scored.n_ratings,
        scored.n_prefer_response_1,
        scored.n_prefer_response_2,
        scored.n_neutral,
        scored.mean_rating,
        scored.median_rating,
        sqrt(scored.rating_variance) as rating_std,
        abs(scored.mean_rating - scored.scale_midpoint) as margin,
        scored.agreement,
        scored.scale_min,
        scored.scale_max,
        scored.scale_midpoint,
        scored.is_tie,
        scored.ratings_fingerprint,
        {{ memo_fingerprint_column(memo) }} as memo_inputs_fingerprint
    from scored
    inner join questions
        on scored.question_id = questions.question_id
    inner join responses as response_1
        on scored.response_1_id = response_1.response_id
    inner join responses as response_2
        on scored.response_2_id = response_2.response_id
)

select
    *,
    {{ memo_key_hash_column() }} as memo_key_hash
from final
{%- if memo.previous is not none %}

union all by name

select * from gone
{%- endif %}
