with

units as (
    select * from {{ ref('int_coded_values_grouped_by_unit') }}
),

{{ krippendorff_alpha('units') }}

select * from alpha
