{#-
    Do raters prefer the response shown first (response A), whatever it says? One row per
    scope of the rating study, the scopes of `study_agreement`: `overall`,
    `workspace:<workspace>` and `<workspace>/<dataset>` (a rating counts in its dataset, its
    workspace and overall).

    A rating prefers A when its raw value (on the record's own A/B order) is on the side of
    the scale the study's `scale_low_means` names for A: below the midpoint when low means
    response A, above it when low means response B. A rating at the midpoint (scales with an
    odd number of points) prefers neither and is left out of the test.

    z tests share_prefer_first = 0.5 with the normal approximation to the binomial (no
    continuity correction): z = (n_prefer_first - n / 2) / sqrt(n / 4). DuckDB has no normal
    CDF, so the two-sided p = erfc(|z| / sqrt(2)) uses Abramowitz & Stegun 7.1.26 (absolute
    error below 1.5e-7).
-#}

with

ratings as (
    select * from {{ ref('pair_ratings') }}
),

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

sided as (
    select
        ratings.workspace,
        ratings.dataset,
        sign(2 * ratings.rating - settings.scale_min - settings.scale_max)
        * case when settings.scale_low_means = 'response_b' then 1 else -1 end as side_a
    from ratings
    cross join settings
),

scoped as (
    -- side_a: 1 prefers A, -1 prefers B, 0 neutral.
    select
        workspace || '/' || dataset as scope,
        workspace,
        dataset,
        side_a
    from sided
    union all
    select
        'workspace:' || workspace as scope,
        workspace,
        cast(null as {{ dbt.type_string() }}) as dataset,
        side_a
    from sided
    union all
    select
        'overall' as scope,
        cast(null as {{ dbt.type_string() }}) as workspace,
        cast(null as {{ dbt.type_string() }}) as dataset,
        side_a
    from sided
),

counted as (
    select
        scope,
        workspace,
        dataset,
        count(*) filter (where side_a <> 0) as n_ratings,
        count(*) filter (where side_a = 0) as n_neutral,
        count(*) filter (where side_a = 1) as n_prefer_first
    from scoped
    group by scope, workspace, dataset
),

tested as (
    select
        *,
        case when n_ratings > 0 then cast(n_prefer_first as {{ type_double() }}) / n_ratings end
            as share_prefer_first,
        case when n_ratings > 0 then (2 * n_prefer_first - n_ratings) / sqrt(n_ratings) end as z
    from counted
),

erfc_terms as (
    -- A&S 7.1.26 for x = |z| / sqrt(2): erfc(x) = t exp(-x^2) (a1 + t (a2 + ...)).
    select
        *,
        1 / (1 + 0.3275911 * abs(z) / sqrt(2)) as t
    from tested
),

final as (
    select
        'rating' as study,
        scope,
        workspace,
        dataset,
        n_ratings,
        n_neutral,
        n_prefer_first,
        share_prefer_first,
        z,
        t * exp(-z * z / 2) * (
            0.254829592 + t * (
                -0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))
            )
        ) as p_value
    from erfc_terms
)

select * from final
