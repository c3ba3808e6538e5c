with

source as (
    select * from {{ landing_source('argilla', 'settings') }}
),

latest as (
    {{ latest_version(['dataset', 'workspace', 'study_role', 'kind', 'name'], 'source') }}
),

typed as (
    select
        dataset,
        workspace,
        study_role,
        kind as setting_kind,
        name as setting_name,
        title,
        type as setting_type,
        settings_json,
        _batch_id as batch_id,
        _extracted_at as extracted_at,
        _row_sha256 as row_sha256,
        has_conflicting_versions,
        case
            when
                dataset is null or workspace is null or study_role is null or kind is null
                or name is null
                then 'missing_key'
            when has_conflicting_versions then 'conflicting_versions'
            when
                settings_json is not null
                and not {{ is_json('settings_json') }}
                then 'invalid_json'
        end as quarantine_reason
    from latest
)

select * from typed
