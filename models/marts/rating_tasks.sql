-- The pairs the rating study shows: per question, pairs of its counted answers, each with the
-- answer shown first (A). The rule (docs/architecture.md, "Rating tasks"): the answers of a
-- question sit on a circle in a seeded order, positions 0..n-1; of two answers d = j - i steps
-- apart (i < j), the one at i is A when d <= n / 2, else the one at j (a circular tournament:
-- every answer is A in half its pairs, within one). Pairs are taken by circular distance,
-- nearest first (a seeded hash of the pair breaks ties), up to the study's pairs per question.
with

responses as (
    select * from {{ ref('written_responses') }}
),

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

positioned as (
    -- The seed is hashed as text, like the publish split's, so the order can be recomputed
    -- outside SQL; the response id breaks an md5 collision.
    select
        responses.response_id,
        responses.question_id,
        responses.question_text,
        responses.response_text,
        settings.rating_pairs_seed as seed,
        row_number() over (
            partition by responses.question_id
            order by
                md5(settings.rating_pairs_seed || '|' || responses.response_id),
                responses.response_id
        ) - 1 as circle_position,
        count(*) over (partition by responses.question_id) as n_question_responses
    from responses
    cross join settings
),

paired as (
    -- Every unordered pair once; a question with one answer has none.
    select
        earlier.question_id,
        earlier.question_text,
        earlier.seed,
        earlier.n_question_responses,
        later.circle_position - earlier.circle_position as steps,
        earlier.response_id as earlier_id,
        later.response_id as later_id,
        earlier.response_text as earlier_text,
        later.response_text as later_text
    from positioned as earlier
    inner join positioned as later
        on
            earlier.question_id = later.question_id
            and earlier.circle_position < later.circle_position
),

oriented as (
    select
        -- The warehouse's pair id (int_rating_records_linked_to_responses), so that ratings
        -- of a task link to it.
        {{ short_id("least(earlier_id, later_id) || '|' || greatest(earlier_id, later_id)") }}
            as pair_id,
        question_id,
        question_text,
        seed,
        n_question_responses,
        least(steps, n_question_responses - steps) as circular_distance,
        -- At d = n / 2 (even n only) the earlier answer is A: the first half of the circle
        -- gets one more first showing than the second, so every answer stays within one of
        -- half its pairs.
        case when 2 * steps <= n_question_responses then earlier_id else later_id end
            as response_a_id,
        case when 2 * steps <= n_question_responses then later_id else earlier_id end
            as response_b_id,
        case when 2 * steps <= n_question_responses then earlier_text else later_text end
            as response_a_text,
        case when 2 * steps <= n_question_responses then later_text else earlier_text end
            as response_b_text
    from paired
),

numbered as (
    -- Nearest pairs first: the distance-1 pairs form a cycle through every answer, so a small
    -- cap still shows each answer, first in as many pairs as second.
    select
        *,
        row_number() over (
            partition by question_id
            order by circular_distance, md5(seed || '|' || pair_id), pair_id
        ) as pair_number
    from oriented
),

final as (
    select
        numbered.pair_id,
        numbered.question_id,
        numbered.question_text,
        numbered.response_a_id,
        numbered.response_b_id,
        numbered.response_a_text,
        numbered.response_b_text,
        cast(settings.expected_ratings_per_pair as bigint) as planned_raters,
        numbered.pair_number,
        numbered.n_question_responses
    from numbered
    cross join settings
    where
        settings.rating_pairs_per_question is null
        or numbered.pair_number <= settings.rating_pairs_per_question
)

select * from final
