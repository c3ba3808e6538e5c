{#-
    What `rlhfw publish` publishes, and what it leaves out and why: one row per rated pair of
    `pair_scores`. Publish reads the rows with `is_published` and adds only what must not live
    in the warehouse's rules: toxicity flags (their threshold is applied at publish time) and
    the salted published ids. The drop counts on the dataset card are this table's counts by
    `drop_reason`.

    A pair is published unless (the first reason that applies): it is a tie (`tie`), it has
    fewer than `publish.min_ratings` ratings (`below_min_ratings`), its margin is below
    `publish.min_margin` (`below_min_margin`), or its preferred id is neither of its responses
    (`invalid_preference`: a warehouse bug, but counted, never silent). Toxic texts are kept.
-#}

with

pair_scores as (
    select * from {{ ref('pair_scores') }}
),

question_splits as (
    select * from {{ ref('question_splits') }}
),

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

judged as (
    select
        pair_scores.*,
        settings.publish_min_ratings as min_ratings,
        settings.publish_min_margin as min_margin,
        case
            when pair_scores.is_tie or pair_scores.preferred_response_id is null then 'tie'
            when pair_scores.n_ratings < settings.publish_min_ratings then 'below_min_ratings'
            when pair_scores.margin < settings.publish_min_margin then 'below_min_margin'
            when
                pair_scores.preferred_response_id
                not in (pair_scores.response_1_id, pair_scores.response_2_id)
                then 'invalid_preference'
        end as drop_reason,
        -- Null when there is no chosen side (a tie, an invalid preference).
        case pair_scores.preferred_response_id
            when pair_scores.response_1_id then true
            when pair_scores.response_2_id then false
        end as chosen_is_1
    from pair_scores
    cross join settings
),

oriented as (
    -- The preferred response becomes `chosen`. pair_scores' ratings are stored so that a low
    -- value means response 1 is better; mirrored when response 2 is chosen, m (the mean
    -- oriented so that a low value means `chosen` is better) is what `rejected` scores, and
    -- its mirror what `chosen` scores: higher is better for each response, on the study's
    -- scale, and the two add up to scale_min + scale_max. Without a chosen side (a tie, an
    -- invalid preference) the scores are null: no orientation fits.
    select
        pair_id,
        question_id,
        response_1_id,
        response_2_id,
        case when chosen_is_1 then response_1_id when not chosen_is_1 then response_2_id end
            as chosen_response_id,
        case when chosen_is_1 then response_2_id when not chosen_is_1 then response_1_id end
            as rejected_response_id,
        drop_reason,
        question_text as prompt,
        case when chosen_is_1 then response_1_text when not chosen_is_1 then response_2_text end
            as chosen,
        case when chosen_is_1 then response_2_text when not chosen_is_1 then response_1_text end
            as rejected,
        n_ratings,
        case
            when chosen_is_1 then scale_min + scale_max - mean_rating
            when not chosen_is_1 then mean_rating
        end as score_chosen,
        case
            when chosen_is_1 then mean_rating
            when not chosen_is_1 then scale_min + scale_max - mean_rating
        end as score_rejected,
        case
            when chosen_is_1 then scale_min + scale_max - median_rating
            when not chosen_is_1 then median_rating
        end as median_score_chosen,
        case
            when chosen_is_1 then median_rating
            when not chosen_is_1 then scale_min + scale_max - median_rating
        end as median_score_rejected,
        rating_std,
        margin,
        -- The margin over half the scale's range: 0 for a tie, 1 when every rater gave the
        -- extreme on one side. Equals (score_chosen - score_rejected) / (scale_max - scale_min).
        2 * margin / (scale_max - scale_min) as preference_strength,
        agreement,
        scale_min,
        scale_max,
        min_ratings,
        min_margin
    from judged
),

final as (
    select
        oriented.pair_id,
        oriented.question_id,
        oriented.response_1_id,
        oriented.response_2_id,
        oriented.chosen_response_id,
        oriented.rejected_response_id,
        question_splits.split,
        oriented.drop_reason,
        oriented.prompt,
        oriented.chosen,
        oriented.rejected,
        oriented.n_ratings,
        oriented.score_chosen,
        oriented.score_rejected,
        oriented.median_score_chosen,
        oriented.median_score_rejected,
        oriented.preference_strength,
        oriented.rating_std,
        oriented.margin,
        oriented.agreement,
        oriented.scale_min,
        oriented.scale_max,
        oriented.min_ratings,
        oriented.min_margin,
        oriented.drop_reason is null as is_published
    from oriented
    -- Every question of pair_scores has its split (question_splits reads pair_scores); a left
    -- join all the same, so a pair can never go missing here (its null split fails a test).
    left join question_splits
        on oriented.question_id = question_splits.question_id
)

select * from final
