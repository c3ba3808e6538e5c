{#-
    The current version of each landed response (one user's answer to one question of a
    record), by the version rule (macros/versions.sql). Incremental: see `landed_rows`.
-#}

{%- set columns = [
    'record_id', 'dataset', 'workspace', 'study_role', 'user_id', 'username', 'question_name',
    'value_json', 'value_number', 'value_text', 'response_status', 'inserted_at', 'updated_at',
    'batch_id', 'extracted_at', 'landed_from_uri', 'source_position', 'row_sha256',
] -%}

with

source as (
    {{ landed_rows(
        'argilla', 'responses', ['dataset', 'workspace', 'record_id', 'user_id', 'question_name']
    ) }}
),

typed as (
    select
        record_id,
        dataset,
        workspace,
        study_role,
        user_id,
        username,
        question_name,
        value_json,
        -- The landing gives value_number for numbers and numeric strings; a numeric string
        -- that it missed is still a number.
        coalesce(
            value_number, {{ try_cast_as(blank_as_null('value_text'), 'double') }}
        ) as value_number,
        value_text,
        lower(trim(status)) as response_status,
        {{ typed_timestamps(['inserted_at', 'updated_at']) }},
        {{ load_columns() }}
    from source
),

checked as (
    select
        {{ columns | join(', ') }},
        case
            when
                dataset is null or workspace is null or record_id is null
                or user_id is null or question_name is null or study_role is null
                then 'missing_key'
            when {{ invalid_timestamp(['inserted_at', 'updated_at']) }}
                then 'invalid_timestamp'
        end as quarantine_reason,
        {{ invalid_timestamp_detail(['inserted_at', 'updated_at']) }} as quarantine_detail
    from typed
),

current_versions as (
    {{ current_versions(
        'checked', ['dataset', 'workspace', 'record_id', 'user_id', 'question_name'], columns
    ) }}
)

select * from current_versions
