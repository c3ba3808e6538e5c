{#-
    PERSONAL DATA. One row per Argilla user seen in the study: their username, Prolific
    participant id and submissions. The analysts' marts (schema `analytics`) carry only
    Argilla user ids; join here, on `user_id`, only where the study's data-protection terms
    allow it. Publishing reads it to redact these identifiers from every published text.
-#}

with

participants as (
    select * from {{ ref('int_participants_joined_to_submissions') }}
),

final as (
    select
        user_id,
        username,
        prolific_pid,
        user_role,
        writing_submission_statuses,
        rating_submission_statuses,
        n_writing_submissions,
        n_rating_submissions,
        is_counted_writer,
        is_counted_rater
    from participants
)

select * from final
