with

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

not_evaluated as (
    select * from {{ ref('int_responses_not_evaluated') }}
),

submissions as (
    select * from {{ ref('stg_prolific__submissions') }}
    where quarantine_reason is null
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

written_items as (
    select
        'written_response' as item_type,
        exclusion_reason,
        false as is_quarantined,
        dataset,
        workspace,
        record_id,
        writer_user_id as user_id,
        question_name,
        question_id,
        response_id,
        cast(null as {{ dbt.type_string() }}) as pair_id,
        coalesce(response_text, value_json) as landed_value,
        response_status,
        cast(null as {{ dbt.type_string() }}) as detail,
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
        question_name,
        question_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        cast(null as {{ dbt.type_string() }}) as pair_id,
        value_json as landed_value,
        response_status,
        cast(null as {{ dbt.type_string() }}) as detail,
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
        question_name,
        question_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        pair_id,
        value_json as landed_value,
        response_status,
        cast(null as {{ dbt.type_string() }}) as detail,
        updated_at,
        batch_id,
        row_sha256
    from ratings
),

submission_items as (
    -- Prolific submissions whose status does not count (RETURNED, TIMED-OUT, ...). The
    -- submission id stands in the record_id column; the participant id stays out of this mart.
    select
        'submission' as item_type,
        'status_not_counted' as exclusion_reason,
        false as is_quarantined,
        cast(null as {{ dbt.type_string() }}) as dataset,
        cast(null as {{ dbt.type_string() }}) as workspace,
        submissions.submission_id as record_id,
        cast(null as {{ dbt.type_string() }}) as user_id,
        cast(null as {{ dbt.type_string() }}) as question_name,
        cast(null as {{ dbt.type_string() }}) as question_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        cast(null as {{ dbt.type_string() }}) as pair_id,
        submissions.submission_status as landed_value,
        cast(null as {{ dbt.type_string() }}) as response_status,
        submissions.study_role || ' study' as detail,
        cast(null as timestamp) as updated_at,
        submissions.batch_id,
        submissions.row_sha256
    from submissions
    cross join settings
    where not coalesce({{ is_counted_status('submissions.submission_status') }}, false)
),

final as (
    select * from not_evaluated
    union all
    select * from submission_items
    union all
    select * from written_items
    union all
    select * from quality_items
    union all
    select * from rating_items
)

select * from final
