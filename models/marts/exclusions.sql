with

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

quarantined as (
    select * from {{ ref('stg_argilla__responses') }}
    where quarantine_reason is not null
),

written as (
    select * from {{ ref('int_written_responses_evaluated') }}
    where not is_counted
),

quality as (
    select * from {{ ref('int_quality_ratings_evaluated') }}
    where not is_counted
),

ratings as (
    select * from {{ ref('int_ratings_oriented_to_pairs') }}
    where not is_counted
),

quarantined_items as (
    -- Responses that failed typing never reached the counting rules; their type is read from
    -- the question name where it can be.
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
        quarantined.username,
        quarantined.question_name,
        cast(null as varchar) as question_id,
        cast(null as varchar) as response_id,
        cast(null as varchar) as pair_id,
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

written_items as (
    select
        'written_response' as item_type,
        exclusion_reason,
        false as is_quarantined,
        dataset,
        workspace,
        record_id,
        writer_user_id as user_id,
        writer_username as username,
        question_name,
        question_id,
        response_id,
        cast(null as varchar) as pair_id,
        coalesce(response_text, value_json) as landed_value,
        response_status,
        cast(null as varchar) as detail,
        updated_at,
        batch_id,
        row_sha256
    from written
),

quality_items as (
    select
        'question_quality' as item_type,
        exclusion_reason,
        false as is_quarantined,
        dataset,
        workspace,
        record_id,
        writer_user_id as user_id,
        writer_username as username,
        question_name,
        question_id,
        cast(null as varchar) as response_id,
        cast(null as varchar) as pair_id,
        value_json as landed_value,
        response_status,
        cast(null as varchar) as detail,
        updated_at,
        batch_id,
        row_sha256
    from quality
),

rating_items as (
    select
        'rating' as item_type,
        exclusion_reason,
        false as is_quarantined,
        dataset,
        workspace,
        record_id,
        rater_user_id as user_id,
        rater_username as username,
        question_name,
        question_id,
        cast(null as varchar) as response_id,
        pair_id,
        value_json as landed_value,
        response_status,
        cast(null as varchar) as detail,
        updated_at,
        batch_id,
        row_sha256
    from ratings
),

final as (
    select * from quarantined_items
    union all
    select * from written_items
    union all
    select * from quality_items
    union all
    select * from rating_items
)

select * from final
