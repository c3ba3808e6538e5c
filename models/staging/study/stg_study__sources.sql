with

source as (
    select * from {{ landing_source('study', 'sources') }}
),

latest as (
    {{ latest_version(['study_role', 'dataset', 'workspace'], 'source') }}
),

typed as (
    select
        study_role,
        dataset,
        workspace,
        source_uri,
        source_format,
        lower(trim(status_if_missing)) as status_if_missing,
        _batch_id as batch_id,
        _extracted_at as extracted_at,
        _row_sha256 as row_sha256,
        has_conflicting_versions,
        case
            when study_role is null or dataset is null or workspace is null then 'missing_key'
            when has_conflicting_versions then 'conflicting_versions'
            when study_role not in ('writing', 'rating') then 'invalid_value'
            when lower(trim(status_if_missing)) not in ('submitted', 'exclude')
                then 'invalid_value'
        end as quarantine_reason
    from latest
)

select * from typed
