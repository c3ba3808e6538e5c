with

source as (
    select * from {{ landing_source('prolific', 'demographics') }}
),

latest as (
    {{ latest_version(['submission_id'], 'source') }}
),

typed as (
    -- Prolific writes DATA_EXPIRED / CONSENT_REVOKED into withdrawn cells: those are NULL here,
    -- not typing failures.
    select
        submission_id,
        trim(participant_id) as participant_id,
        study_id,
        study_role,
        {{ try_cast_as(blank_as_null('age'), 'integer') }} as age,
        sex,
        ethnicity_simplified,
        country_of_birth,
        country_of_residence,
        nationality,
        language,
        student_status,
        employment_status,
        extra as extra_json,
        _batch_id as batch_id,
        _extracted_at as extracted_at,
        _row_sha256 as row_sha256,
        has_conflicting_versions,
        case
            when submission_id is null or {{ blank_as_null('participant_id') }} is null
                then 'missing_key'
            when has_conflicting_versions then 'conflicting_versions'
        end as quarantine_reason
    from latest
)

select * from typed
