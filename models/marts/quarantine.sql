with

final as (
    {{ quarantined_rows('study/settings', 'stg_study__settings', "study_name") }}
    union all
    {{ quarantined_rows(
        'study/sources', 'stg_study__sources', "study_role || '/' || workspace || '/' || dataset"
    ) }}
    union all
    -- The mapping's key is a username, the portal assignments' a Prolific id: personal data
    -- stays in the personal schema, where row_sha256 finds the row.
    {{ quarantined_rows(
        'study/participant_mapping', 'stg_study__participant_mappings',
        "cast(null as " ~ dbt.type_string() ~ ")"
    ) }}
    union all
    {{ quarantined_rows(
        'study/portal_assignments', 'stg_study__portal_assignments',
        "cast(null as " ~ dbt.type_string() ~ ")"
    ) }}
    union all
    {{ quarantined_rows('prolific/submissions', 'stg_prolific__submissions', "submission_id") }}
    union all
    {{ quarantined_rows('prolific/demographics', 'stg_prolific__demographics', "submission_id") }}
    union all
    {{ quarantined_rows(
        'argilla/records', 'stg_argilla__records',
        "workspace || '/' || dataset || '/' || record_id", has_detail=true
    ) }}
    union all
    {{ quarantined_rows(
        'argilla/responses', 'stg_argilla__responses',
        "workspace || '/' || dataset || '/' || record_id || '/' || user_id || '/' || question_name",
        has_detail=true
    ) }}
    union all
    {{ quarantined_rows('argilla/users', 'stg_argilla__users', "user_id", has_detail=true) }}
    union all
    {{ quarantined_rows(
        'argilla/settings', 'stg_argilla__settings',
        "workspace || '/' || dataset || '/' || setting_kind || '/' || setting_name"
    ) }}
)

select * from final
