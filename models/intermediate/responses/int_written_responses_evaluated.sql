with

responses as (
    select * from {{ ref('int_writing_responses_joined_to_participants') }}
    where item_type = 'written_response'
),

normalized as (
    select
        *,
        {{ normalize_text('value_text') }} as response_text_normalized
    from responses
),

checked as (
    -- The first reason that applies, in the order of docs/architecture.md.
    select
        *,
        case
            when question_id is null then 'missing_question'
            when value_text is null then 'invalid_value'
            {{ status_reasons('writer_not_counted', 'is_counted_writer') }}
            when response_text_normalized = '' then 'empty_text'
        end as pre_duplicate_reason
    from normalized
),

ranked as (
    -- The same writer answering the same question again: the latest answer wins; a losing
    -- answer with other text and no timestamp to order it conflicts.
    select
        *,
        {{ repeat_rank('question_id, user_id', 'response_text_normalized') }}
    from checked
),

final as (
    select
        case
            when question_id is not null
                then {{ short_id("question_id || '|' || user_id") }}
        end as response_id,
        question_id,
        dataset,
        workspace,
        record_id,
        user_id as writer_user_id,
        -- The username can be a rating record's key to its sides (the linking); the Prolific id
        -- stays in the personal schema (`participants`).
        username as writer_username,
        question_name,
        value_text as response_text,
        response_text_normalized,
        value_json,
        response_status,
        status_if_missing,
        is_counted_writer,
        {{ exclusion_reason('response_text_normalized', 'duplicate_response') }}
            as exclusion_reason,
        pre_duplicate_reason is null and repeat_rank = 1 as is_counted,
        inserted_at,
        updated_at,
        coalesce(updated_at, inserted_at) as responded_at,
        batch_id,
        row_sha256
    from ranked
)

select * from final
