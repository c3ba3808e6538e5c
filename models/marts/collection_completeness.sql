with

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

units as (
    select * from {{ ref('int_collection_units') }}
),

items as (
    select * from {{ ref('int_collection_items') }}
),

expected as (
    select
        'writing' as study,
        expected_responses_per_question as expected_per_unit
    from settings

    union all

    select
        'rating' as study,
        expected_ratings_per_pair
    from settings
),

unit_rows as (
    -- Each unit once per dataset (no items yet) and each counted item: one grouping below
    -- gives every unit its counted items, and counted items outside any unit are kept apart.
    select
        study,
        workspace,
        dataset,
        unit_id,
        true as is_unit,
        0 as n_counted
    from units

    union all

    select
        study,
        workspace,
        dataset,
        unit_id,
        false as is_unit,
        1 as n_counted
    from items
    where is_counted
),

dataset_units as (
    select
        study,
        workspace,
        dataset,
        unit_id,
        bool_or(is_unit) as is_unit,
        cast(sum(n_counted) as bigint) as n_counted
    from unit_rows
    group by study, workspace, dataset, unit_id
),

unit_progress as (
    -- A unit of a dataset with the items counted there; in `overall`, a unit of any dataset
    -- with all its counted items.
    select
        study,
        workspace || '/' || dataset as scope,
        workspace,
        dataset,
        n_counted
    from dataset_units
    where is_unit

    union all

    select
        study,
        'overall' as scope,
        cast(null as {{ dbt.type_string() }}) as workspace,
        cast(null as {{ dbt.type_string() }}) as dataset,
        cast(sum(n_counted) as bigint) as n_counted
    from dataset_units
    group by study, unit_id
    having bool_or(is_unit)
),

unit_summary as (
    select
        unit_progress.study,
        unit_progress.scope,
        unit_progress.workspace,
        unit_progress.dataset,
        expected.expected_per_unit,
        count(*) as n_units,
        count(*) filter (where unit_progress.n_counted < expected.expected_per_unit)
            as n_units_short_of_target,
        cast(sum(greatest(expected.expected_per_unit - unit_progress.n_counted, 0)) as bigint)
            as n_missing_items,
        min(unit_progress.n_counted) as min_counted_per_unit,
        max(unit_progress.n_counted) as max_counted_per_unit,
        cast(sum(unit_progress.n_counted) as bigint) as n_counted_items_in_units
    from unit_progress
    inner join expected
        on unit_progress.study = expected.study
    group by
        unit_progress.study,
        unit_progress.scope,
        unit_progress.workspace,
        unit_progress.dataset,
        expected.expected_per_unit
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
        cast(sum(n_items) as bigint) as n_landed_items,
        cast(sum(n_counted) as bigint) as n_counted_items,
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
        cast(unit_summary.n_counted_items_in_units as {{ type_double() }}) / unit_summary.n_units
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
