-- Asserts that every pair id is the hash of its two response ids in canonical (sorted) order
-- and every response id the hash of its question and writer (docs/architecture.md).

with

pairs as (
    select * from {{ ref('pair_scores') }}
),

responses as (
    select * from {{ ref('written_responses') }}
),

violations as (
    select pair_id as id
    from pairs
    where
        response_1_id >= response_2_id
        or pair_id <> {{ short_id("response_1_id || '|' || response_2_id") }}

    union all

    select response_id as id
    from responses
    where response_id <> {{ short_id("question_id || '|' || writer_user_id") }}
)

select * from violations
