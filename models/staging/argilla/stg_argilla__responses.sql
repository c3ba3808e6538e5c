with

source as (
    {{ landed_rows('argilla', 'responses') }}
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
        {{ parse_utc_timestamp('inserted_at') }} as inserted_at,
        {{ parse_utc_timestamp('updated_at') }} as updated_at,
        inserted_at as inserted_at_raw,
        updated_at as updated_at_raw,
        _batch_id as batch_id,
        _extracted_at as extracted_at,
        _source_uri as landed_from_uri,
        _source_position as source_position,
        _row_sha256 as row_sha256
    from source
),

checked as (
    select
        * exclude (inserted_at_raw, updated_at_raw),
        case
            when
                record_id is null or dataset is null or workspace is null
                or study_role is null or user_id is null or question_name is null
                then 'missing_key'
            when
                (inserted_at is null and {{ blank_as_null('inserted_at_raw') }} is not null)
                or (updated_at is null and {{ blank_as_null('updated_at_raw') }} is not null)
                then 'invalid_timestamp'
        end as quarantine_reason,
        case
            when inserted_at is null and {{ blank_as_null('inserted_at_raw') }} is not null
                then 'inserted_at=' || inserted_at_raw
            when updated_at is null and {{ blank_as_null('updated_at_raw') }} is not null
                then 'updated_at=' || updated_at_raw
        end as quarantine_detail
    from typed
),

current_versions as (
    {{ current_versions(
        'checked', ['dataset', 'workspace', 'record_id', 'user_id', 'question_name']
    ) }}
)

select * from current_versions
