{#-
    Row-level memo (macros/memo.sql, `memo_merge`): when nothing but the ratings, their links,
    sources and raters changed since the last build, only the groups that changed are ranked and
    written again. A group is one rater's ratings of one pair (the duplicate rule ranks within
    it); a group that is gone leaves a tombstone (a row without `row_sha256`). The changed groups
    come from the rows the last merges of the ratings and of their links wrote, when those are
    all that changed since the last build; else every rating's fingerprint is compared.
-#}
{%- set memo = memo_reusable_rows(exclude=[
    'stg_argilla__responses',
    'int_rating_records_linked_to_responses',
    'int_participants_joined_to_submissions',
    'stg_study__sources',
],
    changes_from=['stg_argilla__responses', 'int_rating_records_linked_to_responses'],
    compared=['int_participants_joined_to_submissions', 'stg_study__sources'],
) -%}
{{- memo_delta_marker(memo) }}

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

ratings as (
    select
        responses.*,
        settings.scale_min,
        settings.scale_max,
        settings.scale_low_means
    from responses
    cross join settings
    where responses.question_name = settings.rating_question
),

{%- set row_fingerprint -%}
    -- Everything a rating's row takes from its own rows upstream (rating, link, source, rater):
    -- a refresh ranks its group again when this changes.
    hash(
        ratings.row_sha256, ratings.source_position, links.record_id, links.question_id,
        links.pair_id,
        links.response_1_id, links.response_2_id, links.is_swapped, links.link_problem,
        sources.status_if_missing, participants.username, participants.prolific_pid,
        participants.is_counted_rater
    )
{%- endset %}
{#- What a row keeps of its rater's and its source's rows, to find raters and sources that
    changed since it was ranked. -#}
{%- set rater_fingerprint -%}
    hash(participants.username, participants.prolific_pid, participants.is_counted_rater)
{%- endset %}
{%- set source_fingerprint -%}
    hash(sources.status_if_missing)
{%- endset %}
{%- set upstream_joins -%}
    left join links
        on
            ratings.dataset = links.dataset
            and ratings.workspace = links.workspace
            and ratings.record_id = links.record_id
    left join sources
        on
            ratings.dataset = sources.dataset
            and ratings.workspace = sources.workspace
    left join participants
        on ratings.user_id = participants.user_id
{%- endset %}

{% if memo.changes is not none %}
    -- rlhfw-memo: from upstream changes
    changed_responses as (
        select * from {{ memo.changes['stg_argilla__responses'] }}
    ),

    changed_links as (
        select * from {{ memo.changes['int_rating_records_linked_to_responses'] }}
    ),

    previous_build as (
        select
            rater_user_id,
            pair_id,
            dataset,
            workspace,
            record_id,
            question_name,
            row_sha256,
            rater_fingerprint,
            source_fingerprint
        from {{ memo.previous }}
    ),

    changed_raters as (
        -- Raters whose participant row is not the one their ratings were ranked with.
        select previous_raters.rater_user_id as user_id
        from (
            select distinct
                rater_user_id,
                rater_fingerprint
            from previous_build
        ) as previous_raters
        left join participants
            on previous_raters.rater_user_id = participants.user_id
        where previous_raters.rater_fingerprint is distinct from {{ rater_fingerprint }}
    ),

    changed_sources as (
        select
            previous_sources.dataset,
            previous_sources.workspace
        from (
            select distinct
                dataset,
                workspace,
                source_fingerprint
            from previous_build
        ) as previous_sources
        left join sources
            on
                previous_sources.dataset = sources.dataset
                and previous_sources.workspace = sources.workspace
        where previous_sources.source_fingerprint is distinct from {{ source_fingerprint }}
    ),

    rating_keys as (
        -- Narrow on purpose: finding the changed groups reads every rating's keys, and only
        -- the ratings of those groups in full.
        select
            row_sha256,
            dataset,
            workspace,
            record_id,
            user_id
        from ratings
    ),

    changed_ratings as (
        -- Current ratings whose own row, record's link, rater or source changed.
        select rating_keys.row_sha256
        from rating_keys
        semi join changed_responses
            on rating_keys.row_sha256 = changed_responses.row_sha256

        union

        select rating_keys.row_sha256
        from rating_keys
        semi join changed_raters
            on rating_keys.user_id = changed_raters.user_id

        union

        select rating_keys.row_sha256
        from rating_keys
        semi join changed_sources
            on
                rating_keys.dataset = changed_sources.dataset
                and rating_keys.workspace = changed_sources.workspace

        union

        select rating_keys.row_sha256
        from rating_keys
        semi join changed_links
            on
                rating_keys.dataset = changed_links.dataset
                and rating_keys.workspace = changed_links.workspace
                and rating_keys.record_id = changed_links.record_id
    ),

    changed_groups as (
        -- The groups those ratings are in now, and the groups that held the same ratings (by
        -- key) or records before.
        select
            rating_keys.user_id,
            links.pair_id
        from rating_keys
        left join links
            on
                rating_keys.dataset = links.dataset
                and rating_keys.workspace = links.workspace
                and rating_keys.record_id = links.record_id
        where rating_keys.row_sha256 in (select changed_ratings.row_sha256 from changed_ratings)

        union

        select
            previous_build.rater_user_id as user_id,
            previous_build.pair_id
        from previous_build
        semi join changed_responses
            on
                previous_build.dataset = changed_responses.dataset
                and previous_build.workspace = changed_responses.workspace
                and previous_build.record_id = changed_responses.record_id
                and previous_build.rater_user_id = changed_responses.user_id
                and previous_build.question_name = changed_responses.question_name

        union

        select
            previous_build.rater_user_id as user_id,
            previous_build.pair_id
        from previous_build
        semi join changed_links
            on
                previous_build.dataset = changed_links.dataset
                and previous_build.workspace = changed_links.workspace
                and previous_build.record_id = changed_links.record_id

        union

        select
            previous_build.rater_user_id as user_id,
            previous_build.pair_id
        from previous_build
        semi join changed_raters
            on previous_build.rater_user_id = changed_raters.user_id

        union

        select
            previous_build.rater_user_id as user_id,
            previous_build.pair_id
        from previous_build
        semi join changed_sources
            on
                previous_build.dataset = changed_sources.dataset
                and previous_build.workspace = changed_sources.workspace
    ),

    ratings_to_rank as (
        -- A changed group's ratings: its changed ones, and its unchanged ones, which were in
        -- the same group before (their row and link are as they were).
        select * from ratings
        where
            row_sha256 in (select changed_ratings.row_sha256 from changed_ratings)
            or row_sha256 in (
                select previous_build.row_sha256
                from previous_build
                inner join changed_groups
                    on
                        previous_build.rater_user_id = changed_groups.user_id
                        and previous_build.pair_id is not distinct from changed_groups.pair_id
            )
    ),
{% elif memo.previous is not none %}
    current_fingerprints as (
        -- Narrow on purpose: every rating is compared, only changed groups are joined in full.
        select
            ratings.user_id,
            links.pair_id,
            ratings.row_sha256,
            {{ row_fingerprint }} as memo_row_fingerprint
        from ratings
        {{ upstream_joins }}
    ),

    previous_build as (
        select
            rater_user_id,
            pair_id,
            memo_row_fingerprint
        from {{ memo.previous }}
    ),

    changed_groups as (
        -- The fingerprint hashes the row's own sha256 with its upstream values, so an equal
        -- fingerprint is an unchanged row (as everywhere in memo, up to a 64-bit hash).
        select
            current_fingerprints.user_id,
            current_fingerprints.pair_id
        from current_fingerprints
        anti join previous_build
            on current_fingerprints.memo_row_fingerprint = previous_build.memo_row_fingerprint

        union

        select
            previous_build.rater_user_id as user_id,
            previous_build.pair_id
        from previous_build
        anti join current_fingerprints
            on previous_build.memo_row_fingerprint = current_fingerprints.memo_row_fingerprint
    ),

    changed_rows as (
        select current_fingerprints.row_sha256
        from current_fingerprints
        inner join changed_groups
            on
                current_fingerprints.user_id = changed_groups.user_id
                and current_fingerprints.pair_id is not distinct from changed_groups.pair_id
    ),

    ratings_to_rank as (
        select * from ratings
        where row_sha256 in (select changed_rows.row_sha256 from changed_rows)
    ),
{% endif %}

joined as (
    select
        ratings.*,
        links.question_id,
        links.pair_id,
        links.response_1_id,
        links.response_2_id,
        links.is_swapped,
        -- A rating whose record did not land (or was quarantined) cannot be linked either.
        case when links.record_id is null then 'unlinkable' else links.link_problem end
            as link_problem,
        coalesce(sources.status_if_missing, 'submitted') as status_if_missing,
        coalesce(participants.username, ratings.username) as rater_username,
        participants.prolific_pid as rater_prolific_pid,
        coalesce(participants.is_counted_rater, false) as is_counted_rater,
        {{ row_fingerprint }} as memo_row_fingerprint,
        {{ rater_fingerprint }} as rater_fingerprint,
        {{ source_fingerprint }} as source_fingerprint
    from {{ 'ratings_to_rank' if memo.previous is not none else 'ratings' }} as ratings
    {{ upstream_joins }}
),

{% if memo.previous is not none %}
    gone as (
        select
            changed_groups.pair_id,
            changed_groups.user_id as rater_user_id
        from changed_groups
        left join joined
            on
                changed_groups.user_id = joined.user_id
                and changed_groups.pair_id is not distinct from joined.pair_id
        where joined.user_id is null
    ),
{% endif %}

to_rank as (
    select * from joined
),

checked as (
    -- The first reason that applies, in the order of docs/architecture.md.
    select
        *,
        value_number is not null
        and not isnan(value_number)
        and value_number = floor(value_number)
        and value_number between scale_min and scale_max as is_on_scale,
        case
            when value_number is null or isnan(value_number) then 'invalid_value'
            when
                value_number <> floor(value_number)
                or value_number < scale_min
                or value_number > scale_max
                then 'out_of_range'
            when response_status is not null and response_status <> 'submitted'
                then 'not_submitted'
            when response_status is null and status_if_missing = 'exclude'
                then 'status_unknown_excluded'
            when not is_counted_rater then 'rater_not_counted'
            when link_problem is not null then link_problem
        end as pre_duplicate_reason
    from to_rank
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

{% set repeats = repeats_window('user_id, pair_id') -%}
ranked as (
    -- One rating per rater and pair: the latest wins (macro latest_first); a losing rating
    -- with another value and no timestamp to order it conflicts.
    select
        *,
        row_number() over ({{ repeats }}) as rating_rank,
        first_value(oriented_rating) over ({{ repeats }}) as winner_value,
        first_value(updated_at) over ({{ repeats }}) as winner_updated_at
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
        rater_username,
        rater_prolific_pid,
        question_name,
        response_1_id,
        response_2_id,
        value_json,
        value_number,
        rating,
        oriented_rating,
        is_swapped,
        is_mirrored,
        response_status,
        coalesce(
            pre_duplicate_reason,
            {{ duplicate_reason(
                'rating_rank', 'oriented_rating', 'winner_value', 'winner_updated_at',
                'duplicate_rating'
            ) }}
        ) as exclusion_reason,
        pre_duplicate_reason is null and rating_rank = 1 as is_counted,
        scale_min,
        scale_max,
        inserted_at,
        updated_at,
        coalesce(updated_at, inserted_at) as rated_at,
        batch_id,
        row_sha256,
        memo_row_fingerprint,
        rater_fingerprint,
        source_fingerprint,
        {{ memo_fingerprint_column(memo) }} as memo_inputs_fingerprint
    from ranked
)

select
    *,
    {{ memo_key_hash_column() }} as memo_key_hash
from final
{%- if memo.previous is not none %}

union all by name

select
    pair_id,
    rater_user_id
from gone
{%- endif %}
