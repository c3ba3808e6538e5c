with

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

users as (
    select * from {{ ref('stg_argilla__users') }}
    where quarantine_reason is null
),

responders as (
    select * from {{ ref('int_users_seen_in_responses') }}
),

mappings as (
    select * from {{ ref('stg_study__participant_mappings') }}
    where quarantine_reason is null
),

submissions as (
    select * from {{ ref('stg_prolific__submissions') }}
    where quarantine_reason is null
),

known_users as (
    select user_id from users
    union
    select user_id from responders
),

named as (
    select
        known_users.user_id,
        coalesce(
            {{ blank_as_null('users.username') }}, responders.username
        ) as username,
        users.user_role
    from known_users
    left join users
        on known_users.user_id = users.user_id
    left join responders
        on known_users.user_id = responders.user_id
),

with_prolific_ids as (
    select
        named.user_id,
        named.username,
        named.user_role,
        case
            when settings.argilla_username_is_prolific_pid then named.username
            else mappings.prolific_pid
        end as prolific_pid
    from named
    cross join settings
    left join mappings
        on named.username = mappings.argilla_username
),

submission_summary as (
    -- A participant counts in a study when any of their submissions to it has a counted status.
    select
        submissions.participant_id,
        submissions.study_role,
        count(*) as n_submissions,
        bool_or(
            {{ is_counted_status('submissions.submission_status') }}
        ) as has_counted_submission,
        {{ string_agg_sorted(
            'submissions.submission_status', "', '", 'submissions.submission_status',
            distinct=true
        ) }} as submission_statuses,
        {{ median('submissions.time_taken_seconds') }} as median_time_taken_seconds
    from submissions
    cross join settings
    group by submissions.participant_id, submissions.study_role
),

final as (
    select
        with_prolific_ids.user_id,
        with_prolific_ids.username,
        with_prolific_ids.prolific_pid,
        with_prolific_ids.user_role,
        writing.submission_statuses as writing_submission_statuses,
        rating.submission_statuses as rating_submission_statuses,
        coalesce(writing.n_submissions, 0) as n_writing_submissions,
        coalesce(rating.n_submissions, 0) as n_rating_submissions,
        writing.median_time_taken_seconds as writing_median_time_taken_seconds,
        rating.median_time_taken_seconds as rating_median_time_taken_seconds,
        coalesce(writing.has_counted_submission, false) as is_counted_writer,
        coalesce(rating.has_counted_submission, false) as is_counted_rater
    from with_prolific_ids
    left join submission_summary as writing
        on
            with_prolific_ids.prolific_pid = writing.participant_id
            and writing.study_role = 'writing'
    left join submission_summary as rating
        on
            with_prolific_ids.prolific_pid = rating.participant_id
            and rating.study_role = 'rating'
)

select * from final
