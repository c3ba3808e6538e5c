with

source as (
    select * from {{ landing_source('study', 'settings') }}
),

{%- set later_columns = [
    ('publish_min_ratings', 'bigint'),
    ('publish_min_margin', type_double()),
    ('publish_test_fraction', type_double()),
    ('publish_seed', dbt.type_string()),
    ('publish_validation_fraction', type_double()),
    ('rating_pairs_per_question', 'bigint'),
    ('rating_pairs_seed', dbt.type_string()),
] %}

with_later_columns as (
    -- Columns the landed settings gained after their first release (macros/landing.sql).
    {{ with_later_columns('source', later_columns) }}
),

latest as (
    {{ latest_version(['study_name'], 'with_later_columns') }}
),

current_settings as (
    -- One study per warehouse: the most recently landed version applies.
    select *
    from (
        select
            *,
            row_number() over (
                order by _extracted_at desc, _batch_id desc, _row_sha256 desc
            ) as settings_rank
        from latest
    ) as ranked_settings
    where settings_rank = 1
),

typed as (
    select
        study_name,
        writing_question_field,
        writing_response_question,
        writing_quality_question,
        rating_question_field,
        response_a_field,
        response_b_field,
        rating_question,
        scale_low_means,
        counted_statuses as counted_statuses_json,
        {{ counted_statuses_list('counted_statuses') }} as counted_statuses,
        question_id_metadata,
        response_a_metadata,
        response_b_metadata,
        cast(quality_min as integer) as quality_min,
        cast(quality_max as integer) as quality_max,
        cast(scale_min as integer) as scale_min,
        cast(scale_max as integer) as scale_max,
        cast(expected_responses_per_question as integer) as expected_responses_per_question,
        cast(expected_ratings_per_pair as integer) as expected_ratings_per_pair,
        -- The rating tasks' settings (study_config.RatingStudy): null pairs per question means
        -- every pair, as in study.yml; a version landed before them gets the seed's default.
        {{ try_cast_as('rating_pairs_per_question', 'integer') }} as rating_pairs_per_question,
        coalesce(cast(rating_pairs_seed as {{ dbt.type_string() }}), '42') as rating_pairs_seed,
        coalesce(argilla_username_is_prolific_pid, true) as argilla_username_is_prolific_pid,
        -- The publish rules' settings. A version landed before they were gets study.yml's
        -- defaults (study_config.Publish; tests/models/test_preference_pairs.py holds them
        -- equal); a landed value that does not type is quarantined below, not defaulted.
        coalesce({{ try_cast_as('publish_min_ratings', 'integer') }}, 1) as publish_min_ratings,
        coalesce({{ try_cast_as('publish_min_margin', 'double') }}, 0.0) as publish_min_margin,
        coalesce({{ try_cast_as('publish_test_fraction', 'double') }}, 0.1)
            as publish_test_fraction,
        coalesce(cast(publish_seed as {{ dbt.type_string() }}), '42') as publish_seed,
        coalesce({{ try_cast_as('publish_validation_fraction', 'double') }}, 0.0)
            as publish_validation_fraction,
        (
            publish_min_ratings is not null
            and {{ try_cast_as('publish_min_ratings', 'integer') }} is null
        )
        or (
            publish_min_margin is not null
            and {{ try_cast_as('publish_min_margin', 'double') }} is null
        )
        or (
            publish_test_fraction is not null
            and {{ try_cast_as('publish_test_fraction', 'double') }} is null
        )
        or (
            publish_validation_fraction is not null
            and {{ try_cast_as('publish_validation_fraction', 'double') }} is null
        )
        or (
            rating_pairs_per_question is not null
            and {{ try_cast_as('rating_pairs_per_question', 'integer') }} is null
        ) as has_untyped_setting,
        _batch_id as batch_id,
        _extracted_at as extracted_at,
        _source_uri as landed_from_uri,
        _row_sha256 as row_sha256
    from current_settings
),

checked as (
    select
        *,
        case
            when
                writing_question_field is null
                or writing_response_question is null
                or rating_question_field is null
                or response_a_field is null
                or response_b_field is null
                or rating_question is null
                then 'missing_key'
            when counted_statuses is null then 'invalid_json'
            when scale_min is null or scale_max is null or scale_min >= scale_max
                then 'invalid_scale'
            when scale_low_means not in ('response_a', 'response_b') then 'invalid_scale'
            when
                writing_quality_question is not null
                and (quality_min is null or quality_max is null or quality_min >= quality_max)
                then 'invalid_scale'
            -- The seeds are hashed as text: only the decimal form Python writes (str(int))
            -- splits and pairs as study.yml's seed does.
            when
                has_untyped_setting
                or not {{ regex_full_match('publish_seed', "'0|-?[1-9][0-9]*'") }}
                or not {{ regex_full_match('rating_pairs_seed', "'0|-?[1-9][0-9]*'") }}
                then 'invalid_number'
            -- The ranges study_config.Publish and RatingStudy accept.
            when
                publish_min_ratings < 1
                or rating_pairs_per_question < 1
                or not {{ is_finite('publish_min_margin') }}
                or publish_min_margin < 0
                or not (publish_test_fraction >= 0 and publish_test_fraction < 1)
                or not (publish_validation_fraction >= 0)
                or not (publish_test_fraction + publish_validation_fraction < 1)
                then 'invalid_value'
        end as quarantine_reason
    from typed
),

final as (
    select
        study_name,
        writing_question_field,
        writing_response_question,
        writing_quality_question,
        rating_question_field,
        response_a_field,
        response_b_field,
        rating_question,
        scale_low_means,
        counted_statuses_json,
        counted_statuses,
        question_id_metadata,
        response_a_metadata,
        response_b_metadata,
        quality_min,
        quality_max,
        scale_min,
        scale_max,
        expected_responses_per_question,
        expected_ratings_per_pair,
        rating_pairs_per_question,
        rating_pairs_seed,
        argilla_username_is_prolific_pid,
        publish_min_ratings,
        publish_min_margin,
        publish_test_fraction,
        publish_seed,
        publish_validation_fraction,
        batch_id,
        extracted_at,
        landed_from_uri,
        row_sha256,
        quarantine_reason
    from checked
)

select * from final
