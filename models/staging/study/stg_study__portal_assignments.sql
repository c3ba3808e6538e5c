with

source as (
    select * from {{ landing_source('study', 'portal_assignments') }}
),

latest as (
    {{ latest_version(['prolific_pid', 'study_role'], 'source') }}
),

typed as (
    select
        trim(prolific_pid) as prolific_pid,
        trim(study_role) as study_role,
        trim(study_id) as study_id,
        trim(session_id) as session_id,
        trim(argilla_username) as argilla_username,
        trim(argilla_user_id) as argilla_user_id,
        workspace,
        {{ typed_timestamps(['assigned_at']) }},
        _batch_id as batch_id,
        _extracted_at as extracted_at,
        _row_sha256 as row_sha256,
        has_conflicting_versions
    from latest
),

checked as (
    select
        prolific_pid,
        study_role,
        study_id,
        session_id,
        argilla_username,
        argilla_user_id,
        workspace,
        assigned_at,
        batch_id,
        extracted_at,
        row_sha256,
        has_conflicting_versions,
        case
            when
                {{ blank_as_null('prolific_pid') }} is null
                or {{ blank_as_null('study_role') }} is null
                then 'missing_key'
            when has_conflicting_versions then 'conflicting_versions'
            when {{ invalid_timestamp(['assigned_at']) }} then 'invalid_timestamp'
        end as quarantine_reason
    from typed
)

select * from checked
