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
        cast(null as {{ dbt.type_string() }}) as workspace,
        cast(null as {{ dbt.type_string() }}) as dataset,
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
        cast(null as {{ dbt.type_string() }}) as dataset,
        n_unit_values,
        coder_ids,
        coded_values
    from {{ grouped_units }}
    where n_unit_workspace_datasets = 1
{% endmacro %}


{% macro log_gamma(x) %}
    {#- ln(Gamma(x)) of a positive double `x` (the Poisson pmf's ln k! = log_gamma(k + 1)). -#}
    {{ return(adapter.dispatch('log_gamma', 'rlhf_warehouse')(x)) }}
{% endmacro %}

{% macro duckdb__log_gamma(x) -%}
    lgamma({{ x }})
{%- endmacro %}

{% macro default__log_gamma(x) -%}
    {#- No lgamma in PostgreSQL before 18, nor in Spark: ln((x - 1)!) exactly below 20,
        Stirling's series from there (its next term, 1 / (1188 x^9), is below 1e-14). -#}
    case
        when {{ x }} < 20
            then ln(cast(factorial(cast({{ x }} as bigint) - 1) as {{ type_double() }}))
        else
            ({{ x }} - 0.5) * ln({{ x }}) - {{ x }} + 0.91893853320467274178
            + 1 / (12 * {{ x }}) - 1 / (360 * power({{ x }}, 3))
            + 1 / (1260 * power({{ x }}, 5)) - 1 / (1680 * power({{ x }}, 7))
    end
{%- endmacro %}


{% macro draw_by_inverse_cdf(draws, cdf) %}
    {#- The rows of `draws` (study, scope, resample, coded_values, n_units, uniform) with
        weight = the smallest k of `cdf` (n_units, k, cdf: non-decreasing in k, 1 at the last
        k) whose cdf is at least the draw's uniform. -#}
    {{ return(adapter.dispatch('draw_by_inverse_cdf', 'rlhf_warehouse')(draws, cdf)) }}
{% endmacro %}

{% macro duckdb__draw_by_inverse_cdf(draws, cdf) %}
    {#- The ASOF join finds each draw's k in one sorted pass (millions of draws at scale). -#}
    select
        {{ draws }}.study,
        {{ draws }}.scope,
        {{ draws }}.resample,
        {{ draws }}.coded_values,
        {{ draws }}.n_units,
        {{ draws }}.uniform,
        {{ cdf }}.k as weight
    from {{ draws }}
    asof inner join {{ cdf }}
        on
            {{ draws }}.n_units = {{ cdf }}.n_units
            and {{ draws }}.uniform <= {{ cdf }}.cdf
{% endmacro %}

{% macro default__draw_by_inverse_cdf(draws, cdf) %}
    {#- No ASOF join: k's step of the cdf, (cdf of k - 1, cdf of k], holds the uniform (the
        cdf rises, so the steps are disjoint and one holds each uniform in [0, 1)). -#}
    select
        {{ draws }}.study,
        {{ draws }}.scope,
        {{ draws }}.resample,
        {{ draws }}.coded_values,
        {{ draws }}.n_units,
        {{ draws }}.uniform,
        cdf_steps.k as weight
    from {{ draws }}
    inner join (
        select
            n_units,
            k,
            coalesce(lag(cdf) over (partition by n_units order by k), -1) as cdf_below,
            cdf
        from {{ cdf }}
    ) as cdf_steps
        on
            {{ draws }}.n_units = cdf_steps.n_units
            and {{ draws }}.uniform > cdf_steps.cdf_below
            and {{ draws }}.uniform <= cdf_steps.cdf
{% endmacro %}


{% macro materialized_cte() %}
    {#- `with name as {{ materialized_cte() }} (...)`: computed once, where the engine would
        otherwise inline the CTE into a join and recompute its expressions per joined row
        (PostgreSQL: the md5 draws, per candidate k). Nothing on the other engines. -#}
    {{ return(adapter.dispatch('materialized_cte', 'rlhf_warehouse')()) }}
{% endmacro %}

{% macro default__materialized_cte() %}{% endmacro %}

{% macro postgres__materialized_cte() %}materialized{% endmacro %}
