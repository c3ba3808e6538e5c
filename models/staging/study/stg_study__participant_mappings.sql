with

source as (
    select * from {{ landing_source('study', 'participant_mapping') }}
),

latest as (
    {{ latest_version(['argilla_username'], 'source') }}
),

typed as (
    select
        trim(argilla_username) as argilla_username,
        trim(prolific_pid) as prolific_pid,
        _batch_id as batch_id,
        _extracted_at as extracted_at,
        _row_sha256 as row_sha256,
        has_conflicting_versions,
        case
            when
                {{ blank_as_null('argilla_username') }} is null
                or {{ blank_as_null('prolific_pid') }} is null
                then 'missing_key'
            when has_conflicting_versions then 'conflicting_versions'
        end as quarantine_reason
    from latest
)

select * from typed
