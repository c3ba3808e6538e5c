with

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

records as (
    select * from {{ ref('stg_argilla__records') }}
    where quarantine_reason is null and study_role = 'writing'
),

parsed as (
    select
        records.dataset,
        records.workspace,
        records.record_id,
        records.external_id,
        {{ json_text('records.fields_json', 'settings.writing_question_field') }}
            as question_text_raw,
        {{ metadata_text('records.metadata_json', 'settings.question_id_metadata') }}
            as question_id_from_metadata,
        records.inserted_at,
        records.updated_at
    from records
    cross join settings
),

identified as (
    select
        *,
        {{ normalize_text('question_text_raw') }} as question_text_normalized
    from parsed
),

final as (
    select
        dataset,
        workspace,
        record_id,
        external_id,
        -- The study's own question id when it has one, else a hash of the normalized text:
        -- the same question in several workspaces is one question.
        case
            when question_id_from_metadata <> '' then question_id_from_metadata
            when question_text_normalized <> '' then {{ short_id('question_text_normalized') }}
        end as question_id,
        question_text_raw,
        question_text_normalized,
        inserted_at,
        updated_at
    from identified
)

select * from final
