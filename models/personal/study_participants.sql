{#-
    PERSONAL DATA. Everyone who took part in each study, by Prolific id: a submission to the
    study on Prolific (any status: a returned or rejected participant took part too), an
    account the portal gave them for it, or an answer in one of its Argilla datasets. The writing study's rows are the rating study's
    blocklist (`rlhfw participants blocklist`): a writer must never rate answers.
-#}

with

submissions as (
    select * from {{ ref('stg_prolific__submissions') }}
    -- A submission quarantined for a bad timestamp still names a person who took part.
    where quarantine_reason is distinct from 'missing_key'
),

responses as (
    -- A response quarantined for a bad value was still written by someone who took part.
    select * from {{ ref('stg_argilla__responses') }}
    where user_id is not null and study_role is not null
),

participants as (
    select * from {{ ref('participants') }}
    where prolific_pid is not null
),

assignments as (
    select * from {{ ref('stg_study__portal_assignments') }}
    where quarantine_reason is distinct from 'missing_key'
),

submitted as (
    select
        participant_id as prolific_pid,
        study_role,
        count(*) as n_submissions
    from submissions
    group by participant_id, study_role
),

answered as (
    select
        participants.prolific_pid,
        responses.study_role,
        count(*) as n_responses
    from responses
    inner join participants
        on responses.user_id = participants.user_id
    group by participants.prolific_pid, responses.study_role
),

given_access as (
    select distinct
        prolific_pid,
        study_role
    from assignments
),

seen as (
    select
        prolific_pid,
        study_role
    from submitted
    union
    select
        prolific_pid,
        study_role
    from answered
    union
    select
        prolific_pid,
        study_role
    from given_access
),

final as (
    select
        seen.prolific_pid,
        seen.study_role,
        coalesce(submitted.n_submissions, 0) as n_submissions,
        coalesce(answered.n_responses, 0) as n_responses,
        given_access.prolific_pid is not null as had_portal_access
    from seen
    left join submitted
        on seen.prolific_pid = submitted.prolific_pid and seen.study_role = submitted.study_role
    left join answered
        on seen.prolific_pid = answered.prolific_pid and seen.study_role = answered.study_role
    left join given_access
        on
            seen.prolific_pid = given_access.prolific_pid
            and seen.study_role = given_access.study_role
)

select * from final
