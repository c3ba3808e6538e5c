with

source as (
    select * from {{ landing_source('prolific', 'submissions') }}
),

latest as (
    {{ latest_version(['submission_id'], 'source') }}
),

typed as (
    select
        submission_id,
        trim(participant_id) as participant_id,
        study_id,
        study_role,
        upper(trim(status)) as submission_status,
        completion_code,
        extra as extra_json,
        {{ try_cast_as(blank_as_null('time_taken'), 'double') }} as time_taken_seconds,
        {{ try_cast_as(blank_as_null('total_approvals'), 'integer') }} as total_approvals,
        {{ parse_utc_timestamp('started_at') }} as started_at,
        {{ parse_utc_timestamp('completed_at') }} as completed_at,
        {{ parse_utc_timestamp('reviewed_at') }} as reviewed_at,
        {{ parse_utc_timestamp('archived_at') }} as archived_at,
        started_at as started_at_raw,
        completed_at as completed_at_raw,
        reviewed_at as reviewed_at_raw,
        archived_at as archived_at_raw,
        time_taken as time_taken_raw,
        total_approvals as total_approvals_raw,
        _batch_id as batch_id,
        _extracted_at as extracted_at,
        _source_uri as landed_from_uri,
        _row_sha256 as row_sha256,
        has_conflicting_versions
    from latest
),

checked as (
    select
        submission_id,
        participant_id,
        study_id,
        study_role,
        submission_status,
        completion_code,
        extra_json,
        time_taken_seconds,
        total_approvals,
        started_at,
        completed_at,
        reviewed_at,
        archived_at,
        batch_id,
        extracted_at,
        landed_from_uri,
        row_sha256,
        has_conflicting_versions,
        case
            when
                submission_id is null or {{ blank_as_null('participant_id') }} is null
                or study_role is null
                then 'missing_key'
            -- The same submission twice in one export or pull, with different values.
            when has_conflicting_versions then 'conflicting_versions'
            when
                (started_at is null and {{ blank_as_null('started_at_raw') }} is not null)
                or (completed_at is null and {{ blank_as_null('completed_at_raw') }} is not null)
                or (reviewed_at is null and {{ blank_as_null('reviewed_at_raw') }} is not null)
                or (archived_at is null and {{ blank_as_null('archived_at_raw') }} is not null)
                then 'invalid_timestamp'
            when
                (time_taken_seconds is null and {{ blank_as_null('time_taken_raw') }} is not null)
                or (
                    total_approvals is null
                    and {{ blank_as_null('total_approvals_raw') }} is not null
                )
                then 'invalid_number'
        end as quarantine_reason
    from typed
)

select * from checked
