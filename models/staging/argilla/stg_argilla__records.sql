{#-
    The current version of each landed record, by the version rule (macros/versions.sql).
    Incremental: see `landed_rows`.
-#}

{%- set columns = [
    'record_id', 'external_id', 'dataset', 'workspace', 'study_role', 'source_format',
    'record_status', 'fields_json', 'metadata_json', 'extra_json', 'inserted_at', 'updated_at',
    'batch_id', 'extracted_at', 'landed_from_uri', 'source_position', 'row_sha256',
] -%}

with

source as (
    {{ landed_rows('argilla', 'records', ['dataset', 'workspace', 'record_id']) }}
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
                or study_role is null
                then 'missing_key'
            when {{ json_object_text('fields_json') }} is null then 'invalid_json'
            when metadata_json is not null and {{ json_object_text('metadata_json') }} is null
                then 'invalid_json'
            when {{ invalid_timestamp(['inserted_at', 'updated_at']) }}
                then 'invalid_timestamp'
        end as quarantine_reason,
        {{ invalid_timestamp_detail(['inserted_at', 'updated_at']) }} as quarantine_detail
    from typed
),

current_versions as (
    {{ current_versions('checked', ['dataset', 'workspace', 'record_id'], columns) }}
)

select * from current_versions
