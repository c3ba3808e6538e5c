{#- The version rule (docs/architecture.md, "Versions"): which landed row of an entity is current. -#}

{% macro latest_version(key_columns, relation='source') %}
    {#- Keep the latest landed version of each entity (raw landed rows), flagging one whose
        winning observation holds another version (`has_conflicting_versions`). The rows keep
        a `_version_rank` column (1). -#}
    {%- set versions = version_window(
        key_columns, '_source_position', '_extracted_at', '_source_uri', '_row_sha256'
    ) %}
    select *
    from (
        select
            *,
            {{ conflicting_version('_batch_id', versions) }} as has_conflicting_versions,
            row_number() over ({{ versions }}) as _version_rank
        from {{ relation }}
    ) as ranked_versions
    where _version_rank = 1
{% endmacro %}


{% macro entity_partition(key_columns, row_sha256) -%}
    {#- Rows missing a key are their own entity, so none is lost. -#}
    {%- set missing = [] -%}
    {%- for col in key_columns -%}
        {%- do missing.append(col ~ ' is null') -%}
    {%- endfor -%}
    {{ key_columns | join(', ') }},
    case when {{ missing | join(' or ') }} then {{ row_sha256 }} end
{%- endmacro %}


{% macro version_window(
    key_columns, source_position, extracted_at, source_uri, row_sha256, updated_at=none
) -%}
    {#-
        The version rule (docs/architecture.md, "Versions"), as a window, latest first: the
        source in the higher slot of study.yml; within one source, its latest observation
        (extract lands a value again when it changes back); within one observation, the
        source's own `updated_at` where it has one. The source uri and the row hash only make
        the order total; nothing here depends on where the study lives or when it ran.
    -#}
    partition by {{ entity_partition(key_columns, row_sha256) }}
    order by
        {{ source_position }} desc nulls last,
        {{ extracted_at }} desc,
        {% if updated_at %}{{ updated_at }} desc nulls last, {% endif -%}
        {{ source_uri }} desc,
        {{ row_sha256 }} desc
{%- endmacro %}


{% macro conflicting_version(batch_id, versions, updated_at=none) -%}
    {#- Whether the next version in `versions` comes from the same observation (a batch: one
        source, one extract) with the same `updated_at`: one export or pull then holds the
        entity twice with different values (a batch holds each row once), a conflict no order
        can settle, which staging quarantines as `conflicting_versions`. The next row, not a
        count: it shares the window's one sort (a count per batch needs a second sort). -#}
    coalesce(
        lead({{ batch_id }}) over ({{ versions }}) = {{ batch_id }}
        {%- if updated_at %}
        and lead({{ updated_at }}) over ({{ versions }}) is not distinct from {{ updated_at }}
        {%- endif %},
        false
    )
{%- endmacro %}


{% macro load_columns() -%}
    {#- The landing's load columns, as every staging model names them. -#}
    _batch_id as batch_id,
    _extracted_at as extracted_at,
    _source_uri as landed_from_uri,
    _source_position as source_position,
    _row_sha256 as row_sha256
{%- endmacro %}


{% macro typed_timestamps(columns) -%}
    {#- Each of `columns` (landed strings) as a UTC timestamp, and its raw text as
        `<column>_raw` for `timestamp_quarantine`. -#}
    {%- for column in columns %}
    {{ parse_utc_timestamp(column) }} as {{ column }},
    {{ column }} as {{ column }}_raw{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{% macro invalid_timestamp(columns) -%}
    {#- Whether a landed timestamp of `columns` is not blank but did not parse. -#}
    {%- for column in columns %}
    {{ 'or ' if not loop.first }}({{ column }} is null and {{ blank_as_null(column ~ '_raw') }} is not null)
    {%- endfor %}
{%- endmacro %}


{% macro invalid_timestamp_detail(columns) -%}
    {#- Which timestamp did not parse, and its text: `<column>=<text>`. -#}
    case
    {%- for column in columns %}
        when {{ column }} is null and {{ blank_as_null(column ~ '_raw') }} is not null
            then '{{ column }}=' || {{ column }}_raw
    {%- endfor %}
    end
{%- endmacro %}


{% macro current_versions(relation, key_columns, columns) %}
    {#-
        The latest version of each entity in `relation` (typed rows with quarantine_reason,
        quarantine_detail, updated_at, source_position, extracted_at, landed_from_uri, batch_id
        and row_sha256), by the rule of `version_window`: its `columns`, then the reasons. One
        export or pull holding an entity twice with different values and one timestamp cannot
        be ordered: that entity is quarantined as `conflicting_versions` (`conflicting_version`).
    -#}
    {%- set versions = version_window(
        key_columns, 'source_position', 'extracted_at', 'landed_from_uri', 'row_sha256',
        updated_at='updated_at'
    ) -%}
    select
        {{ columns | join(',\n        ') }},
        case
            when quarantine_reason is null and has_conflicting_versions
                then 'conflicting_versions'
            else quarantine_reason
        end as quarantine_reason,
        case
            when quarantine_reason is null and has_conflicting_versions
                then 'different versions in one observation'
            else quarantine_detail
        end as quarantine_detail
    from (
        select
            *,
            {{ conflicting_version('batch_id', versions, updated_at='updated_at') }}
                as has_conflicting_versions,
            row_number() over ({{ versions }}) as version_rank
        from {{ relation }}
    ) as current_rows
    where version_rank = 1
{% endmacro %}


{% macro landed_rows(source_name, table_name, key_columns) %}
    {#-
        The landed rows an incremental staging table reads: all of them in a full build; else
        every landed version of the entities that a batch this table has not read yet touches.
        Those compete again (`current_versions`), so the table's rows equal a full build's; the
        model's `unique_key` replaces the entities' rows. A row missing a key is an entity of
        its own (`entity_partition`): only its own batch brings it.
    -#}
    {%- set landed = landing_source(source_name, table_name) -%}
    {%- set unseen_batches -%}
        select distinct new_rows._batch_id
        from {{ landed }} as new_rows
        where not exists (
            select 1 from {{ this }} as seen where seen.batch_id = new_rows._batch_id
        )
    {%- endset -%}
    select * from {{ landed }} as landed
    {%- if is_incremental() %}
    where
        _batch_id in ({{ unseen_batches }})
        or exists (
            select 1
            from {{ landed }} as unseen
            where
                unseen._batch_id in ({{ unseen_batches }})
                {%- for column in key_columns %}
                and unseen.{{ column }} = landed.{{ column }}
                {%- endfor %}
        )
    {%- endif %}
{% endmacro %}
