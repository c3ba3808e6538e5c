-- Asserts that no landed response of the study's questions is lost: for each item type, the
-- landed rows equal the counted rows plus the excluded rows (quarantined included).
with

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

landed as (
    select
        case
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
        end as item_type,
        count(*) as n_landed
    from {{ ref('stg_argilla__responses') }} as responses
    cross join settings
    group by item_type
),

counted as (
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

excluded as (
    select
        item_type,
        count(*) as n_excluded
    from {{ ref('exclusions') }}
    group by item_type
),

compared as (
    select
        landed.item_type,
        landed.n_landed,
        coalesce(counted.n_counted, 0) as n_counted,
        coalesce(excluded.n_excluded, 0) as n_excluded
    from landed
    left join counted
        on landed.item_type = counted.item_type
    left join excluded
        on landed.item_type = excluded.item_type
    where landed.item_type is not null
)

select * from compared
where n_landed <> n_counted + n_excluded
