with

source as (
    select * from {{ landing_source('argilla', 'users') }}
),

latest as (
    {{ latest_version(['user_id'], 'source') }}
),

typed as (
    select
        user_id,
        trim(username) as username,
        role as user_role,
        first_name,
        last_name,
        {{ typed_timestamps(['inserted_at']) }},
        _batch_id as batch_id,
        _extracted_at as extracted_at,
        _row_sha256 as row_sha256,
        has_conflicting_versions
    from latest
),

checked as (
    select
        user_id,
        username,
        user_role,
        first_name,
        last_name,
        inserted_at,
        batch_id,
        extracted_at,
        row_sha256,
        has_conflicting_versions,
        case
            when user_id is null then 'missing_key'
            when has_conflicting_versions then 'conflicting_versions'
            when {{ invalid_timestamp(['inserted_at']) }} then 'invalid_timestamp'
        end as quarantine_reason,
        case
            when has_conflicting_versions
                then 'different rows for this user in one file or pull'
            else {{ invalid_timestamp_detail(['inserted_at']) }}
        end as quarantine_detail
    from typed
)

select * from checked
