with

records as (
    select * from {{ ref('int_rating_records_identified') }}
),

written as (
    -- Every landed written response, counted or not: a side that matches an uncounted one is
    -- `response_not_counted`, not `unlinkable`.
    select * from {{ ref('int_written_responses_evaluated') }}
    where response_id is not null
),

counted_response_ids as (
    -- A side is counted when its response id counts (a writer's latest answer), whichever of
    -- that writer's answers to the question the record shows.
    select distinct response_id from written
    where is_counted
),

candidates as (
    select
        written.question_id,
        written.response_id,
        written.writer_user_id,
        written.writer_username,
        written.response_text_normalized,
        counted_response_ids.response_id is not null as is_counted
    from written
    left join counted_response_ids
        on written.response_id = counted_response_ids.response_id
),

sides as (
    select
        dataset,
        workspace,
        record_id,
        question_id,
        'a' as side,
        response_a_key as side_key,
        response_a_text_normalized as side_text_normalized
    from records
    union all
    select
        dataset,
        workspace,
        record_id,
        question_id,
        'b' as side,
        response_b_key as side_key,
        response_b_text_normalized as side_text_normalized
    from records
),

written_keys as (
    -- A metadata key may name the response id, the writer's user id or their username.
    select
        question_id,
        response_id as side_key,
        response_id,
        is_counted
    from candidates
    union all
    select
        question_id,
        writer_user_id as side_key,
        response_id,
        is_counted
    from candidates
    union all
    select
        question_id,
        writer_username as side_key,
        response_id,
        is_counted
    from candidates
    where writer_username is not null
),

matches as (
    -- By the side's metadata key when it has one, else by normalized text.
    select
        sides.dataset,
        sides.workspace,
        sides.record_id,
        sides.side,
        written_keys.response_id,
        written_keys.is_counted
    from sides
    inner join written_keys
        on
            sides.question_id = written_keys.question_id
            and sides.side_key = written_keys.side_key
    where sides.side_key is not null
    union all
    select
        sides.dataset,
        sides.workspace,
        sides.record_id,
        sides.side,
        candidates.response_id,
        candidates.is_counted
    from sides
    inner join candidates
        on
            sides.question_id = candidates.question_id
            and sides.side_text_normalized = candidates.response_text_normalized
    where sides.side_key is null and sides.side_text_normalized <> ''
),

distinct_matches as (
    -- A response id's rows all share its `is_counted`: one row per matching response.
    select distinct
        dataset,
        workspace,
        record_id,
        side,
        response_id,
        is_counted
    from matches
),

best_matches as (
    -- Several writers can write the same text: prefer a counted response, then the lowest id.
    -- Both sides of a record in one grouping (one aggregate, not a ranking; one join below).
    select
        dataset,
        workspace,
        record_id,
        coalesce(
            min(response_id) filter (where side = 'a' and is_counted),
            min(response_id) filter (where side = 'a')
        ) as response_a_id,
        coalesce(
            min(response_id) filter (where side = 'b' and is_counted),
            min(response_id) filter (where side = 'b')
        ) as response_b_id,
        bool_or(is_counted) filter (where side = 'a') as is_response_a_counted,
        bool_or(is_counted) filter (where side = 'b') as is_response_b_counted,
        count(*) filter (where side = 'a') as n_response_a_matches,
        count(*) filter (where side = 'b') as n_response_b_matches
    from distinct_matches
    group by dataset, workspace, record_id
),

linked as (
    select
        records.*,
        best_matches.response_a_id,
        best_matches.response_b_id,
        coalesce(best_matches.is_response_a_counted, false) as is_response_a_counted,
        coalesce(best_matches.is_response_b_counted, false) as is_response_b_counted,
        coalesce(best_matches.n_response_a_matches, 0) as n_response_a_matches,
        coalesce(best_matches.n_response_b_matches, 0) as n_response_b_matches,
        -- The canonical pair: sorted, so the same two responses are one pair in any order.
        least(best_matches.response_a_id, best_matches.response_b_id) as response_1_id,
        greatest(best_matches.response_a_id, best_matches.response_b_id) as response_2_id
    from records
    left join best_matches
        on
            records.dataset = best_matches.dataset
            and records.workspace = best_matches.workspace
            and records.record_id = best_matches.record_id
),

final as (
    select
        dataset,
        workspace,
        record_id,
        question_id,
        case
            when response_1_id <> response_2_id
                then {{ short_id("response_1_id || '|' || response_2_id") }}
        end as pair_id,
        response_a_id,
        response_b_id,
        response_1_id,
        response_2_id,
        -- The record shows the canonical pair the other way round.
        response_a_id > response_b_id as is_swapped,
        is_response_a_counted,
        is_response_b_counted,
        n_response_a_matches,
        n_response_b_matches,
        case
            when response_a_id is null or response_b_id is null then 'unlinkable'
            when response_a_id = response_b_id then 'same_response'
            when not (is_response_a_counted and is_response_b_counted)
                then 'response_not_counted'
        end as link_problem
    -- The texts the record shows stay in `int_rating_records_identified` (same key): carried
    -- here, they cost a third of this table's build and no reader uses them.
    from linked
)

select * from final
