{#-
    How many pairable values (in units with two or more values) each coder has, per study and
    scope: `study_agreement`'s coder count is the number of these rows.
-#}

with

grouped_units as (
    select * from {{ ref('int_coded_values_grouped_by_unit') }}
),

scoped_units as (
    {{ units_in_scopes('grouped_units') }}
),

coder_values as (
    select
        study,
        scope,
        {{ unnest_list('coder_ids') }} as coder_id
    from scoped_units
    where n_unit_values >= 2
),

final as (
    select
        study,
        scope,
        coder_id,
        count(*) as n_values
    from coder_values
    group by study, scope, coder_id
)

select * from final
