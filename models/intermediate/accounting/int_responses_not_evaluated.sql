{#-
    Argilla responses that never reach the counting rules, each with its reason: quarantined
    in staging (their type read from the question name where it can be), or answers to a
    question study.yml names for neither study. Listed in `exclusions`, so that nothing landed
    disappears without a reason.
-#}

with

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

responses as (
    select * from {{ ref('stg_argilla__responses') }}
),

quarantined as (
    select * from responses
    where quarantine_reason is not null
),

unconfigured as (
    -- Landed, never counted (a renamed question shows here).
    select responses.*
    from responses
    cross join settings
    where
        responses.quarantine_reason is null
        and not (
            responses.study_role = 'writing'
            and responses.question_name in (
                settings.writing_response_question, settings.writing_quality_question
            )
        )
        and not (
            responses.study_role = 'rating'
            and responses.question_name = settings.rating_question
        )
),

quarantined_items as (
    select
        case
            when
                quarantined.study_role = 'writing'
                and quarantined.question_name = settings.writing_response_question
                then 'written_response'
            when
                quarantined.study_role = 'writing'
                and quarantined.question_name = settings.writing_quality_question
                then 'question_quality'
            when
                quarantined.study_role = 'rating'
                and quarantined.question_name = settings.rating_question
                then 'rating'
            else 'other_response'
        end as item_type,
        quarantined.quarantine_reason as exclusion_reason,
        true as is_quarantined,
        quarantined.dataset,
        quarantined.workspace,
        quarantined.record_id,
        quarantined.user_id,
        quarantined.question_name,
        cast(null as {{ dbt.type_string() }}) as question_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        cast(null as {{ dbt.type_string() }}) as pair_id,
        coalesce(quarantined.value_text, quarantined.value_json) as landed_value,
        quarantined.response_status,
        quarantined.quarantine_detail as detail,
        quarantined.updated_at,
        quarantined.batch_id,
        quarantined.row_sha256
    from quarantined
    left join settings
        on true
),

unconfigured_items as (
    select
        'other_response' as item_type,
        'question_not_configured' as exclusion_reason,
        false as is_quarantined,
        dataset,
        workspace,
        record_id,
        user_id,
        question_name,
        cast(null as {{ dbt.type_string() }}) as question_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        cast(null as {{ dbt.type_string() }}) as pair_id,
        coalesce(value_text, value_json) as landed_value,
        response_status,
        study_role || ' study: not a question of study.yml' as detail,
        updated_at,
        batch_id,
        row_sha256
    from unconfigured
)

select * from quarantined_items
union all
select * from unconfigured_items
