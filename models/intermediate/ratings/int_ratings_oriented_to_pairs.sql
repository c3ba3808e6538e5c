with

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

responses as (
    select * from {{ ref('stg_argilla__responses') }}
    where quarantine_reason is null and study_role = 'rating'
),

sources as (
    select * from {{ ref('stg_study__sources') }}
    where quarantine_reason is null and study_role = 'rating'
),

participants as (
    select * from {{ ref('int_participants_joined_to_submissions') }}
),

links as (
    select * from {{ ref('int_rating_records_linked_to_responses') }}
),

joined as (
    select
        responses.*,
        settings.scale_min,
        settings.scale_max,
        settings.scale_low_means,
        links.question_id,
        links.pair_id,
        links.response_1_id,
        links.response_2_id,
        links.response_a_id,
        links.is_swapped,
        -- A rating whose record did not land (or was quarantined) cannot be linked either.
        case when links.record_id is null then 'unlinkable' else links.link_problem end
            as link_problem,
        coalesce(sources.status_if_missing, 'submitted') as status_if_missing,
        -- Only whether the rater counts: their username and Prolific id stay in the personal
        -- schema (`participants`, by user id), out of this table.
        coalesce(participants.is_counted_rater, false) as is_counted_rater
    from responses
    inner join settings
        on responses.question_name = settings.rating_question
    left join links
        on
            responses.dataset = links.dataset
            and responses.workspace = links.workspace
            and responses.record_id = links.record_id
    left join sources
        on
            responses.dataset = sources.dataset
            and responses.workspace = sources.workspace
    left join participants
        on responses.user_id = participants.user_id
),

checked as (
    -- The first reason that applies, in the order of docs/architecture.md.
    select
        *,
        -- On the scale: none of the scale's reasons applies (one definition of the scale).
        case
            {{ scale_reasons('value_number', 'scale_min', 'scale_max') }}
        end is null as is_on_scale,
        case
            {{ scale_reasons('value_number', 'scale_min', 'scale_max') }}
            {{ status_reasons('rater_not_counted', 'is_counted_rater') }}
            when link_problem is not null then link_problem
        end as pre_duplicate_reason
    from joined
),

oriented as (
    -- Low oriented values mean response_1 is better. A record showing the pair the other way
    -- round is mirrored, and so is a scale whose low end means response B.
    select
        *,
        case when is_on_scale then cast(value_number as integer) end as rating,
        case
            when not is_on_scale then null
            when is_swapped <> (scale_low_means = 'response_b')
                then scale_min + scale_max - cast(value_number as integer)
            else cast(value_number as integer)
        end as oriented_rating,
        is_swapped <> (scale_low_means = 'response_b') as is_mirrored
    from checked
),

ranked as (
    -- One rating per rater and pair: the latest wins; a losing rating with another value and
    -- no timestamp to order it conflicts.
    select
        *,
        {{ repeat_rank('user_id, pair_id', 'oriented_rating') }}
    from oriented
),

final as (
    select
        pair_id,
        question_id,
        dataset,
        workspace,
        record_id,
        user_id as rater_user_id,
        question_name,
        response_1_id,
        response_2_id,
        response_a_id,
        value_json,
        value_number,
        rating,
        oriented_rating,
        is_swapped,
        is_mirrored,
        response_status,
        {{ exclusion_reason('oriented_rating', 'duplicate_rating') }} as exclusion_reason,
        pre_duplicate_reason is null and repeat_rank = 1 as is_counted,
        scale_min,
        scale_max,
        inserted_at,
        updated_at,
        coalesce(updated_at, inserted_at) as rated_at,
        batch_id,
        row_sha256
    from ranked
)

select * from final
