-- Asserts that every rating task shows two different counted written responses of its own
-- question, with their texts, under the warehouse's pair id (the one its ratings link to).
with

tasks as (
    select * from {{ ref('rating_tasks') }}
),

responses as (
    select * from {{ ref('written_responses') }}
),

final as (
    select
        tasks.pair_id,
        tasks.question_id,
        tasks.response_a_id,
        tasks.response_b_id
    from tasks
    left join responses as response_a
        on
            tasks.response_a_id = response_a.response_id
            and tasks.question_id = response_a.question_id
    left join responses as response_b
        on
            tasks.response_b_id = response_b.response_id
            and tasks.question_id = response_b.question_id
    where
        tasks.response_a_id = tasks.response_b_id
        or response_a.response_id is null
        or response_b.response_id is null
        or tasks.response_a_text is distinct from response_a.response_text
        or tasks.response_b_text is distinct from response_b.response_text
        or tasks.pair_id <> {{ short_id(
            "least(tasks.response_a_id, tasks.response_b_id) || '|' "
            ~ "|| greatest(tasks.response_a_id, tasks.response_b_id)"
        ) }}
)

select * from final
