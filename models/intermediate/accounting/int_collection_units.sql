-- One row per record that defines a unit: a writing record with a question (unit: the
-- question), a rating record whose sides both link to counted responses (unit: the pair).
-- A unit shown by several records appears once per record.

with

writing_records as (
    select * from {{ ref('int_writing_records_identified') }}
    where question_id is not null
),

rating_records as (
    -- Pairs that can collect counted ratings: both sides link to counted responses.
    select * from {{ ref('int_rating_records_linked_to_responses') }}
    where link_problem is null
),

final as (
    select
        'writing' as study,
        workspace,
        dataset,
        question_id as unit_id
    from writing_records

    union all

    select
        'rating' as study,
        workspace,
        dataset,
        pair_id as unit_id
    from rating_records
)

select * from final
