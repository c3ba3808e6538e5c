with

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

responses as (
    select * from {{ ref('int_writing_responses_joined_to_participants') }}
    where item_type = 'question_quality'
),

checked as (
    -- Counts like a written response, with the quality scale instead of the text rule.
    select
        responses.*,
        settings.quality_min,
        settings.quality_max,
        case
            when responses.question_id is null then 'missing_question'
            when responses.value_number is null or isnan(responses.value_number)
                then 'invalid_value'
            when
                responses.value_number <> floor(responses.value_number)
                or responses.value_number < settings.quality_min
                or responses.value_number > settings.quality_max
                then 'out_of_range'
            when responses.response_status is not null and responses.response_status <> 'submitted'
                then 'not_submitted'
            when responses.response_status is null and responses.status_if_missing = 'exclude'
                then 'status_unknown_excluded'
            when not responses.is_counted_writer then 'writer_not_counted'
        end as pre_duplicate_reason
    from responses
    cross join settings
),

{% set repeats = repeats_window('question_id, user_id') -%}
ranked as (
    select
        *,
        row_number() over ({{ repeats }}) as answer_rank,
        first_value(value_number) over ({{ repeats }}) as winner_value,
        first_value(updated_at) over ({{ repeats }}) as winner_updated_at
    from checked
),

final as (
    select
        question_id,
        user_id as writer_user_id,
        dataset,
        workspace,
        record_id,
        username as writer_username,
        question_name,
        value_json,
        value_number,
        case
            when pre_duplicate_reason is null then cast(value_number as integer)
        end as quality_rating,
        quality_min,
        quality_max,
        response_status,
        coalesce(
            pre_duplicate_reason,
            {{ duplicate_reason(
                'answer_rank', 'value_number', 'winner_value', 'winner_updated_at', 'duplicate_response'
            ) }}
        ) as exclusion_reason,
        pre_duplicate_reason is null and answer_rank = 1 as is_counted,
        inserted_at,
        updated_at,
        coalesce(updated_at, inserted_at) as rated_at,
        batch_id,
        row_sha256
    from ranked
)

select * from final
