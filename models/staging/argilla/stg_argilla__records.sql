{#-
    The current version of each landed record, by the version rule (macros/versions.sql).
    Incremental: see `landed_rows`.
-#}

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
        * exclude (inserted_at_raw, updated_at_raw),
        case
            when
                dataset is null or workspace is null or record_id is null
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
            when {{ invalid_timestamp(['inserted_at', 'updated_at']) }}
                then 'invalid_timestamp'
        end as quarantine_reason,
        {{ invalid_timestamp_detail(['inserted_at', 'updated_at']) }} as quarantine_detail
    from typed
),

current_versions as (
    {{ current_versions('checked', ['dataset', 'workspace', 'record_id']) }}
)

select * from current_versions
