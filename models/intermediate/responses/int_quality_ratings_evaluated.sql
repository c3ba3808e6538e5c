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
            {{ scale_reasons(
                'responses.value_number', 'settings.quality_min', 'settings.quality_max'
            ) }}
            {{ status_reasons('writer_not_counted', 'responses.is_counted_writer') }}
        end as pre_duplicate_reason
    from responses
    cross join settings
),

ranked as (
    select
        *,
        {{ repeat_rank('question_id, user_id', 'value_number') }}
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
        {{ exclusion_reason('value_number', 'duplicate_response') }} as exclusion_reason,
        pre_duplicate_reason is null and repeat_rank = 1 as is_counted,
        inserted_at,
        updated_at,
        coalesce(updated_at, inserted_at) as rated_at,
        batch_id,
        row_sha256
    from ranked
)

select * from final
