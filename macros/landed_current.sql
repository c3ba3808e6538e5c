{#-
    Current versions of a large landed table, kept as a table that a refresh updates from the
    batches it has not seen yet (materialization `landed_current`). Every reader of the staging
    model then scans a table instead of re-running the latest-version window over all landed
    rows (at 100x: 2.5M responses, ~3 s per reader).

    The model's SQL reads its landed rows with `landed_rows()` and picks versions with
    `current_versions()`. On a delta build (memo on, and the table was built by this code
    version) `landed_rows()` returns only rows of unseen batches and `current_versions()` lets
    them compete with the table's current rows of the same entities; the winners replace those
    entities. Reading a batch twice is harmless (it competes with itself), so the batches are
    recorded before they are read: one that lands during the build is read again next time.
-#}

{% macro landed_batches_relation() %}
    {{ return(this.incorporate(path={'identifier': this.identifier ~ '__landed_batches'})) }}
{% endmacro %}


{% macro landed_delta_mode() %}
    {%- if not memo_enabled() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set existing = adapter.get_relation(
        database=this.database, schema=this.schema, identifier=this.identifier
    ) -%}
    {%- set batches = landed_batches_relation() -%}
    {{ return(
        existing is not none and existing.is_table
        and memo_stored_fingerprint(existing) == var('rlhfw_code_version')
        and adapter.get_relation(
            database=batches.database, schema=batches.schema, identifier=batches.identifier
        ) is not none
    ) }}
{% endmacro %}


{% macro landed_rows(source_name, table_name) %}
    {#- The landed rows a build must read: all of them, or on a delta build the unseen batches.
        Those are listed as constants: a file holds one batch, so the Parquet reader skips the
        other files by their statistics instead of reading every landed row to compare it. -#}
    select * from {{ landing_source(source_name, table_name) }}
    {%- if landed_delta_mode() %}
    -- rlhfw-memo: landed-delta
    {%- set batches = landed_new_batches(landing_source(source_name, table_name)) %}
    where {{ '_batch_id in (' ~ _landed_batch_literals(batches) ~ ')' if batches else 'false' }}
    {%- endif %}
{% endmacro %}


{% macro landed_new_batches(landed) %}
    {#- The batches of `landed` that this table has not read, listed once per run: the
        materialization records exactly these as read. -#}
    {%- set cache = graph.setdefault('rlhfw_landed_new_' ~ invocation_id, {}) -%}
    {%- set key = this | string -%}
    {%- if key not in cache -%}
        {%- set rows = run_query(
            'select distinct _batch_id from ' ~ landed ~ ' where _batch_id not in (select '
            ~ 'batch_id from ' ~ landed_batches_relation() ~ ') order by 1'
        ).rows -%}
        {%- do cache.update({key: rows | map(attribute=0) | list}) -%}
    {%- endif -%}
    {{ return(cache[key]) }}
{% endmacro %}


{% macro _landed_batch_literals(batches) %}
    {#- The batch ids as SQL string literals, comma separated. -#}
    {%- set literals = [] -%}
    {%- for batch in batches -%}
        {%- do literals.append("'" ~ batch | replace("'", "''") ~ "'") -%}
    {%- endfor -%}
    {{ return(literals | join(', ')) }}
{% endmacro %}


{% macro current_versions(relation, key_columns) %}
    {#-
        The latest version of each entity in `relation` (typed rows with quarantine_reason,
        quarantine_detail, updated_at, source_position, extracted_at, landed_from_uri, batch_id
        and row_sha256), by the rule of `version_window`. One export or pull holding an entity
        twice with different values and one timestamp cannot be ordered: that entity is
        quarantined as `conflicting_versions` (`conflicting_version`). On a delta build the
        table's current rows of the same entities compete too (a row of a batch read again
        counts once).
    -#}
    {%- set same_key = [] -%}
    {%- for col in key_columns -%}
        {%- do same_key.append('kept.' ~ col ~ ' = new.' ~ col) -%}
    {%- endfor -%}
    {%- set versions = version_window(
        key_columns, 'source_position', 'extracted_at', 'landed_from_uri', 'row_sha256',
        updated_at='updated_at'
    ) -%}
    select
        * exclude (quarantine_reason, quarantine_detail, has_conflicting_versions),
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
                as has_conflicting_versions
        from (
            select * from (
                select * from {{ relation }}
                {%- if landed_delta_mode() %}
                union all by name
                select kept.* from {{ this }} as kept
                semi join {{ relation }} as new on {{ same_key | join(' and ') }}
                union all by name
                select kept.* from {{ this }} as kept
                semi join {{ relation }} as new on kept.row_sha256 = new.row_sha256
                {%- endif %}
            ) as unioned
            {%- if landed_delta_mode() %}
            -- A kept row of a batch read again (one that landed mid-build) counts once.
            qualify row_number() over (
                partition by row_sha256, batch_id order by quarantine_reason nulls last
            ) = 1
            {%- endif %}
        ) as candidates
        qualify row_number() over ({{ versions }}) = 1
    ) as current_rows
{% endmacro %}


{% materialization landed_current, adapter='duckdb' %}
    {#-
        `meta.memo_landed: [source, table]` names the landed table; `unique_key` its entity key.
        Without memo (a plain `dbt build`, `--full-refresh`) this is a `table`.
    -#}
    {%- set memo = memo_enabled() -%}
    {%- set delta = 'rlhfw-memo: landed-delta' in compiled_code -%}
    {%- set landed_source = _memo_meta('memo_landed') -%}
    {%- set batches = landed_batches_relation() -%}
    {%- set snapshot = this.identifier ~ '__new_batches' -%}
    {%- if memo -%}
        {%- set landed = landing_source(landed_source[0], landed_source[1]) -%}
        {%- call statement('landed_batches_snapshot') -%}
            create or replace temp table {{ snapshot }} as
            {%- if delta %}
            select unnest([{{ _landed_batch_literals(landed_new_batches(landed)) }}]::varchar[])
                as batch_id
            {%- else %}
            select distinct _batch_id as batch_id from {{ landed }}
            {%- endif %}
        {%- endcall -%}
    {%- endif -%}
    {#- How tests fingerprint this table: by its landed source (macros/memo.sql). -#}
    {%- set sources = [] -%}
    {%- for node_id in model.depends_on.nodes if node_id.startswith('source.') -%}
        {%- do sources.append(node_id) -%}
    {%- endfor -%}
    {%- set source_id = sources[0] -%}
    {%- if not delta -%}
        {%- set result = materialization_table_duckdb() -%}
        {%- if memo -%}
            {%- call statement('landed_batches_record') -%}
                create or replace table {{ batches }} as select * from {{ snapshot }};
                comment on table {{ this }} is 'rlhfw-memo:{{ var("rlhfw_code_version") }}';
                comment on table {{ batches }} is 'rlhfw-memo-landed:{{ memo_landed_part(source_id) }}';
                drop table {{ snapshot }}
            {%- endcall -%}
        {%- endif -%}
        {%- do memo_record_changes(none, none, none) -%}
        {%- do adapter.commit() -%}
        {{ return(result) }}
    {%- endif -%}
    {%- set before = memo_table_note(batches, 'rlhfw-memo-landed:') -%}
    {%- set after = memo_landed_part(source_id) -%}
    {%- set keys = config.require('unique_key') -%}
    {%- set changed = this.identifier ~ '__memo_delta' -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- call statement('landed_delta') -%}
        create or replace temp table {{ changed }} as {{ compiled_code }}
    {%- endcall -%}
    {%- call statement('landed_replace', fetch_result=True) -%}
        delete from {{ this }} as kept using {{ changed }} as new
        where
        {%- for key in keys %}
            kept.{{ key }} = new.{{ key }}{{ ' and' if not loop.last }}
        {%- endfor %};
        delete from {{ this }} as kept using {{ changed }} as new
        where kept.row_sha256 = new.row_sha256;
        insert into {{ this }} by name select * from {{ changed }}
    {%- endcall -%}
    {%- set written = load_result('landed_replace')['table'].rows[0][0] -%}
    {#- What the tests of this table need to check again (macros/memo_test.sql). -#}
    {%- do memo_record_changes('select * from ' ~ changed, before, after) -%}
    {%- call statement('landed_batches_record') -%}
        insert into {{ batches }} select * from {{ snapshot }};
        comment on table {{ batches }} is 'rlhfw-memo-landed:{{ after }}';
        drop table {{ snapshot }};
        drop table {{ changed }}
    {%- endcall -%}
    {%- call noop_statement('main', 'MERGED (new batches only: ' ~ written ~ ' rows)', 'MERGED', written) -%}
        -- new landed batches applied to {{ this }}
    {%- endcall -%}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do adapter.commit() %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [this.incorporate(type='table')]}) }}
{% endmaterialization %}
