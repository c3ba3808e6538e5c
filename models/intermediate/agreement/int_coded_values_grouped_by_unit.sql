{#-
    The counted values of both studies grouped by unit, the input of agreement and annotator
    quality (`study_agreement`, `annotator_quality`): they then aggregate one row per unit
    instead of grouping every rating again. Rating study: units are pairs, coders raters,
    values oriented ratings. Writing study: units are questions, coders writers, values
    question-quality ratings.
-#}
with

pair_ratings as (
    select * from {{ ref('pair_ratings') }}
),

quality as (
    select * from {{ ref('quality_ratings') }}
),

coded_values as (
    select
        'rating' as study,
        pair_ratings.workspace,
        pair_ratings.dataset,
        pair_ratings.pair_id as unit_id,
        pair_ratings.rater_user_id as coder_id,
        cast(pair_ratings.oriented_rating as bigint) as coded_value
    from pair_ratings
    union all
    select
        'writing' as study,
        quality.workspace,
        quality.dataset,
        quality.question_id as unit_id,
        quality.rater_user_id as coder_id,
        cast(quality.quality_rating as bigint) as coded_value
    from quality
),

dataset_units as (
    -- Integer sums keep alpha exact; the two lists are in the same order, so a unit's i-th
    -- coder gave its i-th value.
    select
        study,
        workspace,
        dataset,
        unit_id,
        count(*) as n_unit_values,
        cast(sum(coded_value) as bigint) as sum_x,
        cast(sum(coded_value * coded_value) as bigint) as sum_x2,
        {{ list_agg('coder_id', 'coder_id, coded_value') }} as coder_ids,
        {{ list_agg('coded_value', 'coder_id, coded_value') }} as coded_values
    from coded_values
    group by study, workspace, dataset, unit_id
),

scoped as (
    select
        *,
        count(*) over (partition by study, unit_id) as n_unit_scopes,
        count(*) over (partition by study, workspace, unit_id) as n_unit_workspace_datasets
    from dataset_units
),

final as (
    select
        study,
        workspace || '/' || dataset as scope,
        workspace,
        dataset,
        unit_id,
        n_unit_scopes,
        n_unit_workspace_datasets,
        n_unit_values,
        sum_x,
        sum_x2,
        coder_ids,
        coded_values
    from scoped

    union all

    -- The workspace scope of a unit seen in several datasets of one workspace; a unit seen in
    -- one dataset of the workspace is its own workspace row (readers take it from that row).
    select
        study,
        'workspace:' || workspace as scope,
        workspace,
        cast(null as {{ dbt.type_string() }}) as dataset,
        unit_id,
        n_unit_scopes,
        n_unit_workspace_datasets,
        cast(sum(n_unit_values) as bigint) as n_unit_values,
        cast(sum(sum_x) as bigint) as sum_x,
        cast(sum(sum_x2) as bigint) as sum_x2,
        {{ concat_lists_agg('coder_ids', 'dataset', dbt.type_string()) }} as coder_ids,
        {{ concat_lists_agg('coded_values', 'dataset', 'bigint') }} as coded_values
    from scoped
    where n_unit_workspace_datasets > 1
    group by study, workspace, unit_id, n_unit_scopes, n_unit_workspace_datasets

    union all

    -- The overall scope of a unit seen in several datasets; a unit seen in one is its own
    -- overall row (readers take it from its dataset row).
    select
        study,
        'overall' as scope,
        cast(null as {{ dbt.type_string() }}) as workspace,
        cast(null as {{ dbt.type_string() }}) as dataset,
        unit_id,
        n_unit_scopes,
        cast(null as bigint) as n_unit_workspace_datasets,
        cast(sum(n_unit_values) as bigint) as n_unit_values,
        cast(sum(sum_x) as bigint) as sum_x,
        cast(sum(sum_x2) as bigint) as sum_x2,
        {{ concat_lists_agg('coder_ids', 'workspace, dataset', dbt.type_string()) }} as coder_ids,
        {{ concat_lists_agg('coded_values', 'workspace, dataset', 'bigint') }} as coded_values
    from scoped
    where n_unit_scopes > 1
    group by study, unit_id, n_unit_scopes
)

select * from final
