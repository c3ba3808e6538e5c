{#-
    Each rating-study record's question and its two sides, parsed and normalized: the input of
    the linking (`int_rating_records_linked_to_responses`).
-#}

with

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

records as (
    select * from {{ ref('stg_argilla__records') }}
    where quarantine_reason is null and study_role = 'rating'
),

questions as (
    select * from {{ ref('int_questions_identified_from_records') }}
),

written as (
    select * from {{ ref('int_written_responses_evaluated') }}
),

writing_records as (
    select * from {{ ref('int_writing_records_identified') }}
),

known_normalizations as (
    -- Texts the writing study already normalized: rating records show those very strings as
    -- a rule, so a lookup spares most texts the regular expressions.
    select distinct
        text_raw,
        text_normalized
    from (
        select
            question_text_raw as text_raw,
            question_text_normalized as text_normalized
        from writing_records
        union all
        select
            response_text as text_raw,
            response_text_normalized as text_normalized
        from written
    ) as texts
    where text_raw is not null
),

question_by_text as (
    select
        question_text_normalized,
        min(question_id) as question_id
    from questions
    group by question_text_normalized
),

parsed as (
    select
        records.dataset,
        records.workspace,
        records.record_id,
        {{ json_text('records.fields_json', 'settings.rating_question_field') }}
            as question_text_raw,
        {{ json_text('records.fields_json', 'settings.response_a_field') }} as response_a_text,
        {{ json_text('records.fields_json', 'settings.response_b_field') }} as response_b_text,
        {{ metadata_text('records.metadata_json', 'settings.question_id_metadata') }}
            as question_id_from_metadata,
        {{ metadata_text('records.metadata_json', 'settings.response_a_metadata') }}
            as response_a_key,
        {{ metadata_text('records.metadata_json', 'settings.response_b_metadata') }}
            as response_b_key
    from records
    cross join settings
),

normalized as (
    -- coalesce evaluates the normalization only where the lookup found nothing.
    select
        parsed.*,
        coalesce(
            question_text.text_normalized, {{ normalize_text('parsed.question_text_raw') }}
        ) as question_text_normalized,
        coalesce(
            response_a_text.text_normalized, {{ normalize_text('parsed.response_a_text') }}
        ) as response_a_text_normalized,
        coalesce(
            response_b_text.text_normalized, {{ normalize_text('parsed.response_b_text') }}
        ) as response_b_text_normalized
    from parsed
    left join known_normalizations as question_text
        on parsed.question_text_raw = question_text.text_raw
    left join known_normalizations as response_a_text
        on parsed.response_a_text = response_a_text.text_raw
    left join known_normalizations as response_b_text
        on parsed.response_b_text = response_b_text.text_raw
),

final as (
    -- The record's own question id (metadata), else the writing study's id for this text.
    select
        normalized.dataset,
        normalized.workspace,
        normalized.record_id,
        case
            when normalized.question_id_from_metadata <> ''
                then normalized.question_id_from_metadata
            when question_by_text.question_id is not null then question_by_text.question_id
            when normalized.question_text_normalized <> ''
                then {{ short_id('normalized.question_text_normalized') }}
        end as question_id,
        nullif(normalized.response_a_key, '') as response_a_key,
        nullif(normalized.response_b_key, '') as response_b_key,
        normalized.question_text_raw,
        normalized.response_a_text,
        normalized.response_b_text,
        normalized.response_a_text_normalized,
        normalized.response_b_text_normalized
    from normalized
    left join question_by_text
        on normalized.question_text_normalized = question_by_text.question_text_normalized
)

select * from final
