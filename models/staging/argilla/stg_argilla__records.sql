with

source as (
    {{ landed_rows('argilla', 'records') }}
),

typed as (
    select
        record_id,
        external_id,
        dataset,
        workspace,
        study_role,
        source_format,
        record_status,
        fields as fields_json,
        metadata as metadata_json,
        extra as extra_json,
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
                or study_role is null
                then 'missing_key'
            when
                fields_json is null
                or not json_valid(fields_json)
                or json_type(fields_json) <> 'OBJECT'
                then 'invalid_json'
            when
                metadata_json is not null
                and (not json_valid(metadata_json) or json_type(metadata_json) <> 'OBJECT')
                then 'invalid_json'
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
    {{ current_versions('checked', ['dataset', 'workspace', 'record_id']) }}
)

select * from current_versions
