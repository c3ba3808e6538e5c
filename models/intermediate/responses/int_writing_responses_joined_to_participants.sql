with

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

responses as (
    select * from {{ ref('stg_argilla__responses') }}
    where quarantine_reason is null and study_role = 'writing'
),

records as (
    select * from {{ ref('int_writing_records_identified') }}
),

sources as (
    select * from {{ ref('stg_study__sources') }}
    where quarantine_reason is null and study_role = 'writing'
),

participants as (
    select * from {{ ref('int_participants_joined_to_submissions') }}
),

study_questions as (
    select
        responses.*,
        case
            when responses.question_name = settings.writing_response_question
                then 'written_response'
            else 'question_quality'
        end as item_type
    from responses
    cross join settings
    where
        responses.question_name = settings.writing_response_question
        or responses.question_name = settings.writing_quality_question
),

final as (
    select
        study_questions.item_type,
        study_questions.dataset,
        study_questions.workspace,
        study_questions.record_id,
        study_questions.user_id,
        study_questions.question_name,
        records.question_id,
        -- The Prolific id stays in the personal schema (`participants`, by user id).
        coalesce(participants.username, study_questions.username) as username,
        study_questions.value_json,
        study_questions.value_text,
        study_questions.value_number,
        study_questions.response_status,
        -- Formats without a status count as submitted unless the source says `exclude`.
        coalesce(sources.status_if_missing, 'submitted') as status_if_missing,
        coalesce(participants.is_counted_writer, false) as is_counted_writer,
        study_questions.inserted_at,
        study_questions.updated_at,
        study_questions.source_position,
        study_questions.batch_id,
        study_questions.extracted_at,
        study_questions.row_sha256
    from study_questions
    left join records
        on
            study_questions.dataset = records.dataset
            and study_questions.workspace = records.workspace
            and study_questions.record_id = records.record_id
    left join sources
        on
            study_questions.dataset = sources.dataset
            and study_questions.workspace = sources.workspace
    left join participants
        on study_questions.user_id = participants.user_id
)

select * from final
