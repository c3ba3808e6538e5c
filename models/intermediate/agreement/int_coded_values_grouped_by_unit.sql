{#-
    The counted values of both studies grouped by unit, the input of agreement and annotator
    quality (macros/krippendorff.sql): they then aggregate one row per unit instead of grouping
    every rating again. Rating study: units are pairs, coders raters, values oriented ratings.
    Writing study: units are questions, coders writers, values question-quality ratings.

    Row-level memo (macros/memo.sql, `memo_merge`): when only the ratings changed since the
    last build, and the rows the oriented ratings' last merge wrote are all that changed, only
    the pairs of those rows are grouped again; a pair left without counted ratings leaves a
    tombstone (a row without `scope`). Anything else rebuilds the table.
-#}
{%- set memo = memo_reusable_rows(
    exclude=['int_ratings_oriented_to_pairs'], changes_from=['int_ratings_oriented_to_pairs']
) -%}
{%- set from_changes = memo.changes is not none -%}
{%- if from_changes %}{{ memo_delta_marker(memo) }}{% endif %}

with

pair_ratings as (
    -- What `pair_ratings` shows, read from its table: a view's tests would hold this model
    -- back in `dbt build`, on the refresh's critical path.
    select * from {{ ref('int_ratings_oriented_to_pairs') }}
    where is_counted
),

quality as (
    select * from {{ ref('int_quality_ratings_evaluated') }}
    where is_counted
),

{% if from_changes %}
    -- rlhfw-memo: from upstream changes
    changed_units as (
        select distinct changed_ratings.pair_id as unit_id
        from {{ memo.changes['int_ratings_oriented_to_pairs'] }} as changed_ratings
        where changed_ratings.pair_id is not null
    ),
{% endif %}

coded_values as (
    select
        'rating' as study,
        pair_ratings.workspace,
        pair_ratings.dataset,
        pair_ratings.pair_id as unit_id,
        pair_ratings.rater_user_id as coder_id,
        cast(pair_ratings.oriented_rating as bigint) as coded_value
    from pair_ratings
    {%- if from_changes %}
        semi join changed_units
            on pair_ratings.pair_id = changed_units.unit_id
    {%- else %}

        union all

        select
            'writing' as study,
            quality.workspace,
            quality.dataset,
            quality.question_id as unit_id,
            quality.writer_user_id as coder_id,
            cast(quality.quality_rating as bigint) as coded_value
        from quality
    {%- endif %}
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
        sum(coded_value) as sum_x,
        sum(coded_value * coded_value) as sum_x2,
        list(coder_id order by coder_id, coded_value) as coder_ids,
        list(coded_value order by coder_id, coded_value) as coded_values
    from coded_values
    group by study, workspace, dataset, unit_id
),

scoped as (
    select
        *,
        count(*) over (partition by study, unit_id) as n_unit_scopes
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
        n_unit_values,
        sum_x,
        sum_x2,
        coder_ids,
        coded_values
    from scoped

    union all

    -- The overall scope of a unit seen in several datasets; a unit seen in one is its own
    -- overall row (readers take it from its dataset row).
    select
        study,
        'overall' as scope,
        cast(null as varchar) as workspace,
        cast(null as varchar) as dataset,
        unit_id,
        n_unit_scopes,
        sum(n_unit_values) as n_unit_values,
        sum(sum_x) as sum_x,
        sum(sum_x2) as sum_x2,
        flatten(list(coder_ids order by workspace, dataset)) as coder_ids,
        flatten(list(coded_values order by workspace, dataset)) as coded_values
    from scoped
    where n_unit_scopes > 1
    group by study, unit_id, n_unit_scopes
)

select
    *,
    {{ memo_fingerprint_column(memo) }} as memo_inputs_fingerprint,
    {{ memo_key_hash_column() }} as memo_key_hash
from final
{%- if from_changes %}

union all by name

select
    'rating' as study,
    changed_units.unit_id
from changed_units
anti join dataset_units
    on changed_units.unit_id = dataset_units.unit_id
{%- endif %}
