with

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

writing_records as (
    select * from {{ ref('int_writing_records_identified') }}
    where question_id is not null
),

written as (
    select * from {{ ref('int_written_responses_evaluated') }}
),

rating_records as (
    -- Pairs that can collect counted ratings: both sides link to counted responses.
    select * from {{ ref('int_rating_records_linked_to_responses') }}
    where link_problem is null
),

ratings as (
    select * from {{ ref('int_ratings_oriented_to_pairs') }}
),

units as (
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
),

items as (
    select
        'writing' as study,
        workspace,
        dataset,
        question_id as unit_id,
        writer_user_id as user_id,
        is_counted
    from written

    union all

    select
        'rating' as study,
        workspace,
        dataset,
        pair_id as unit_id,
        rater_user_id as user_id,
        is_counted
    from ratings
),

dataset_units as (
    select distinct
        study,
        workspace,
        dataset,
        unit_id
    from units
),

dataset_counts as (
    -- Counted per unit and dataset; the overall scope is summed from these rather than from a
    -- second copy of every item.
    select
        study,
        workspace,
        dataset,
        unit_id,
        count(*) as n_counted
    from items
    where is_counted
    group by study, workspace, dataset, unit_id
),

scoped_units as (
    select
        study,
        'overall' as scope,
        cast(null as varchar) as workspace,
        cast(null as varchar) as dataset,
        unit_id
    from dataset_units
    group by study, unit_id

    union all

    select
        study,
        workspace || '/' || dataset as scope,
        workspace,
        dataset,
        unit_id
    from dataset_units
),

counted_per_unit as (
    select
        study,
        'overall' as scope,
        unit_id,
        cast(sum(n_counted) as bigint) as n_counted
    from dataset_counts
    group by study, unit_id

    union all

    select
        study,
        workspace || '/' || dataset as scope,
        unit_id,
        n_counted
    from dataset_counts
),

unit_progress as (
    select
        scoped_units.study,
        scoped_units.scope,
        scoped_units.workspace,
        scoped_units.dataset,
        scoped_units.unit_id,
        coalesce(counted_per_unit.n_counted, 0) as n_counted,
        case
            when scoped_units.study = 'writing' then settings.expected_responses_per_question
            else settings.expected_ratings_per_pair
        end as expected_per_unit
    from scoped_units
    cross join settings
    left join counted_per_unit
        on
            scoped_units.study = counted_per_unit.study
            and scoped_units.scope = counted_per_unit.scope
            and scoped_units.unit_id = counted_per_unit.unit_id
),

unit_summary as (
    select
        study,
        scope,
        workspace,
        dataset,
        expected_per_unit,
        count(*) as n_units,
        count(*) filter (where n_counted < expected_per_unit) as n_units_short_of_target,
        sum(greatest(expected_per_unit - n_counted, 0)) as n_missing_items,
        min(n_counted) as min_counted_per_unit,
        max(n_counted) as max_counted_per_unit,
        sum(n_counted) as n_counted_items_in_units
    from unit_progress
    group by study, scope, workspace, dataset, expected_per_unit
),

dataset_participant_work as (
    select
        study,
        workspace,
        dataset,
        user_id,
        count(*) as n_items,
        count(*) filter (where is_counted) as n_counted
    from items
    group by study, workspace, dataset, user_id
),

participant_work as (
    select
        study,
        'overall' as scope,
        user_id,
        cast(sum(n_items) as bigint) as n_items,
        cast(sum(n_counted) as bigint) as n_counted
    from dataset_participant_work
    group by study, user_id

    union all

    select
        study,
        workspace || '/' || dataset as scope,
        user_id,
        n_items,
        n_counted
    from dataset_participant_work
),

item_summary as (
    select
        study,
        scope,
        sum(n_items) as n_landed_items,
        sum(n_counted) as n_counted_items,
        count(*) as n_participants,
        -- Some of their work counts and some does not (drafts, duplicates, ...).
        count(*) filter (where n_counted > 0 and n_counted < n_items) as n_participants_partial,
        count(*) filter (where n_counted = 0) as n_participants_without_counted_work
    from participant_work
    group by study, scope
),

final as (
    select
        unit_summary.study,
        unit_summary.scope,
        unit_summary.workspace,
        unit_summary.dataset,
        case when unit_summary.study = 'writing' then 'question' else 'pair' end as unit,
        unit_summary.expected_per_unit,
        unit_summary.n_units,
        unit_summary.n_units * unit_summary.expected_per_unit as n_expected_items,
        coalesce(item_summary.n_landed_items, 0) as n_landed_items,
        coalesce(item_summary.n_counted_items, 0) as n_counted_items,
        unit_summary.n_missing_items,
        cast(unit_summary.n_counted_items_in_units as double) / unit_summary.n_units
            as mean_counted_per_unit,
        unit_summary.min_counted_per_unit,
        unit_summary.max_counted_per_unit,
        unit_summary.n_units_short_of_target,
        unit_summary.n_units - unit_summary.n_units_short_of_target as n_units_at_target,
        coalesce(item_summary.n_participants, 0) as n_participants,
        coalesce(item_summary.n_participants_partial, 0) as n_participants_partial,
        coalesce(item_summary.n_participants_without_counted_work, 0)
            as n_participants_without_counted_work
    from unit_summary
    left join item_summary
        on
            unit_summary.study = item_summary.study
            and unit_summary.scope = item_summary.scope
)

select * from final
