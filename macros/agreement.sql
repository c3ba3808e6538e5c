{% macro units_in_scopes(grouped_units) %}
    {#- The rows of `grouped_units` (`int_coded_values_grouped_by_unit`) that agreement counts,
        per scope: each row in its own scope, a unit seen in one dataset in `overall` too (a
        unit seen in several has an overall row of its own), and a unit seen in one dataset of
        a workspace in that workspace's scope `workspace:<workspace>` too (a unit seen in
        several datasets of a workspace has a workspace row of its own). -#}
    select
        study,
        scope,
        workspace,
        dataset,
        n_unit_values,
        coder_ids,
        coded_values
    from {{ grouped_units }}
    union all
    select
        study,
        'overall' as scope,
        cast(null as varchar) as workspace,
        cast(null as varchar) as dataset,
        n_unit_values,
        coder_ids,
        coded_values
    from {{ grouped_units }}
    where n_unit_scopes = 1
    union all
    select
        study,
        'workspace:' || workspace as scope,
        workspace,
        cast(null as varchar) as dataset,
        n_unit_values,
        coder_ids,
        coded_values
    from {{ grouped_units }}
    where n_unit_workspace_datasets = 1
{% endmacro %}
