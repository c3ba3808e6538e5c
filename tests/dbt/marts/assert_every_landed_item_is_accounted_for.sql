-- Asserts that nothing landed is lost: per landed table (the current version of each landed
-- response and Prolific submission), landed = counted + excluded + quarantined, and per item
-- type of the responses, landed = counted + excluded (quarantined rows are in `exclusions`).
with

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

responses as (
    select * from {{ ref('stg_argilla__responses') }}
),

submissions as (
    select * from {{ ref('stg_prolific__submissions') }}
),

exclusions as (
    select * from {{ ref('exclusions') }}
),

counted_responses as (
    select count(*) as n from {{ ref('written_responses') }}
    union all
    select count(*) as n from {{ ref('int_quality_ratings_evaluated') }}
    where is_counted
    union all
    select count(*) as n from {{ ref('pair_ratings') }}
),

per_table as (
    select
        'argilla/responses' as landed_table,
        (select count(*) from responses) as n_landed,
        (select sum(n) from counted_responses) as n_counted,
        (
            select count(*) from exclusions
            where item_type <> 'submission' and not is_quarantined
        ) as n_excluded,
        (
            select count(*) from responses
            where quarantine_reason is not null
        ) as n_quarantined
    union all
    select
        'prolific/submissions' as landed_table,
        (select count(*) from submissions) as n_landed,
        (
            select count(*) from submissions
            cross join settings
            where
                submissions.quarantine_reason is null
                and {{ is_counted_status('submissions.submission_status') }}
        ) as n_counted,
        (
            select count(*) from exclusions
            where item_type = 'submission'
        ) as n_excluded,
        (
            select count(*) from submissions
            where quarantine_reason is not null
        ) as n_quarantined
),

landed_items as (
    select
        case
            when responses.quarantine_reason is not null then null
            when
                responses.study_role = 'writing'
                and responses.question_name = settings.writing_response_question
                then 'written_response'
            when
                responses.study_role = 'writing'
                and responses.question_name = settings.writing_quality_question
                then 'question_quality'
            when
                responses.study_role = 'rating'
                and responses.question_name = settings.rating_question
                then 'rating'
            else 'other_response'
        end as item_type,
        count(*) as n_landed
    from responses
    cross join settings
    group by item_type
),

counted_items as (
    select
        'written_response' as item_type,
        count(*) as n_counted
    from {{ ref('written_responses') }}
    union all
    select
        'question_quality' as item_type,
        count(*) as n_counted
    from {{ ref('int_quality_ratings_evaluated') }}
    where is_counted
    union all
    select
        'rating' as item_type,
        count(*) as n_counted
    from {{ ref('pair_ratings') }}
),

excluded_items as (
    select
        item_type,
        count(*) as n_excluded
    from exclusions
    where not is_quarantined
    group by item_type
),

per_item_type as (
    select
        'argilla/responses: ' || landed_items.item_type as landed_table,
        landed_items.n_landed,
        coalesce(counted_items.n_counted, 0) as n_counted,
        coalesce(excluded_items.n_excluded, 0) as n_excluded,
        0 as n_quarantined
    from landed_items
    left join counted_items
        on landed_items.item_type = counted_items.item_type
    left join excluded_items
        on landed_items.item_type = excluded_items.item_type
    where landed_items.item_type is not null
),

compared as (
    select * from per_table
    union all
    select * from per_item_type
)

select * from compared
where n_landed <> n_counted + n_excluded + n_quarantined
