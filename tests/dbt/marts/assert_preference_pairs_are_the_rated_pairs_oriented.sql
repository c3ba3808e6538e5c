-- Asserts that preference_pairs holds every rated pair of pair_scores exactly once (a pair the
-- publish rules leave out is still there, with its reason), and that every published pair is
-- oriented as TRL reads it: `chosen` is the preferred response and not the rejected one, the
-- texts are those of the two sides, `chosen` scores above the midpoint (higher is better),
-- the two scores add up to scale_min + scale_max, and the strength is their scaled difference.
with

preference_pairs as (
    select * from {{ ref('preference_pairs') }}
),

pair_scores as (
    select * from {{ ref('pair_scores') }}
),

final as (
    select
        coalesce(preference_pairs.pair_id, pair_scores.pair_id) as pair_id,
        preference_pairs.drop_reason,
        preference_pairs.chosen_response_id,
        pair_scores.preferred_response_id,
        preference_pairs.score_chosen
    from pair_scores
    full outer join preference_pairs
        on pair_scores.pair_id = preference_pairs.pair_id
    where
        preference_pairs.pair_id is null
        or pair_scores.pair_id is null
        or preference_pairs.is_published is distinct from (preference_pairs.drop_reason is null)
        or (
            preference_pairs.is_published
            and not coalesce(
                preference_pairs.chosen_response_id = pair_scores.preferred_response_id
                and preference_pairs.rejected_response_id <> preference_pairs.chosen_response_id
                and preference_pairs.rejected_response_id
                in (pair_scores.response_1_id, pair_scores.response_2_id)
                and preference_pairs.chosen
                = case preference_pairs.chosen_response_id
                    when pair_scores.response_1_id then pair_scores.response_1_text
                    else pair_scores.response_2_text
                end
                and 2 * preference_pairs.score_chosen
                > preference_pairs.scale_min + preference_pairs.scale_max
                and preference_pairs.score_chosen + preference_pairs.score_rejected
                = preference_pairs.scale_min + preference_pairs.scale_max
                and abs(
                    preference_pairs.preference_strength
                    * (preference_pairs.scale_max - preference_pairs.scale_min)
                    - (preference_pairs.score_chosen - preference_pairs.score_rejected)
                ) < 1e-9,
                false
            )
        )
)

select * from final
