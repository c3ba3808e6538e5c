{#- Where the landed Parquet lives, and how staging reads it. -#}

{% macro landing_tables() %}
    {#- Every table of the landing contract (extract/schemas.py). -#}
    {{ return([
        'study/settings', 'study/sources', 'study/participant_mapping', 'study/portal_assignments',
        'prolific/submissions', 'prolific/demographics',
        'argilla/records', 'argilla/responses', 'argilla/users', 'argilla/settings',
    ]) }}
{% endmacro %}


{% macro configured_landing_root() %}
    {{ return(env_var('RLHFW_LANDING', 'data/landing')) }}
{% endmacro %}


{% macro landing_root() %}
    {#-
        The landing root as an absolute path when it can be made one, so the staging views keep
        working when the warehouse is opened from another folder. A relative RLHFW_LANDING is
        relative to the working directory, like the warehouse path. Jinja cannot see the
        working directory, but DuckDB reports the absolute path of the warehouse it opened:
        when the warehouse path is relative too, the working directory is that path minus its
        relative part. Otherwise the root stays relative, which still works for dbt itself.
    -#}
    {%- set root = configured_landing_root() -%}
    {%- if root.startswith('/') or not execute -%}
        {{ return(root) }}
    {%- endif -%}
    {%- set warehouse = (target.path or '') | replace('\\', '/') -%}
    {%- if warehouse.startswith('./') -%}
        {%- set warehouse = warehouse[2:] -%}
    {%- endif -%}
    {%- if warehouse == '' or warehouse.startswith('/') or warehouse.startswith(':')
        or '..' in warehouse -%}
        {{ return(root) }}
    {%- endif -%}
    {%- set found = run_query(
        "select path from duckdb_databases() where database_name = current_database()"
    ) -%}
    {%- set opened = found.columns[0].values()[0] if found and found.rows | length > 0 else none -%}
    {%- if opened and opened.endswith('/' ~ warehouse) -%}
        {%- set working_dir = opened[: (opened | length) - (warehouse | length) - 1] -%}
        {{ return(working_dir ~ '/' ~ (root[2:] if root.startswith('./') else root)) }}
    {%- endif -%}
    {{ return(root) }}
{% endmacro %}


{% macro landing_glob(path) %}
    {#-
        `path` as the body of a SQL string that DuckDB's file glob reads literally: the glob
        characters [, * and ? each as a one-character class ([[] matches a [), then every '
        doubled. The sources YAML writes the landing root in the same way.
    -#}
    {%- set escaped = path | replace('[', '[[]') | replace('*', '[*]') | replace('?', '[?]') -%}
    {{ return(escaped | replace("'", "''")) }}
{% endmacro %}


{% macro landing_source(source_name, table_name) %}
    {#-
        `source()` for a landed table, reading from the absolute landing root. The sources YAML
        stays the one definition of the file pattern; only its root is swapped here.
    -#}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set configured = "'" ~ landing_glob(configured_landing_root()) ~ "/" -%}
    {%- set absolute = "'" ~ landing_glob(landing_root()) ~ "/" -%}
    {{ return(relation.render() | replace(configured, absolute)) }}
{% endmacro %}


{% macro check_landing() %}
    {#-
        on-run-start: fail in one line when the landing zone lacks a table, instead of an
        engine's "No files found" or "relation does not exist" from the middle of the build.
    -#}
    {{ return(adapter.dispatch('check_landing', 'rlhf_warehouse')()) }}
{% endmacro %}


{% macro default__check_landing() %}
    {#- A server's landing tables: loaded by rlhfw before each build (engines/postgres.py). -#}
    {%- if execute -%}
        {%- set found = run_query(
            "select table_schema || '/' || table_name from information_schema.tables"
            ~ " where left(table_schema, 8) = 'landing_'"
        ).columns[0].values() -%}
        {%- set missing = [] -%}
        {%- for table in landing_tables() -%}
            {%- if 'landing_' ~ table not in found -%}
                {%- do missing.append(table) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                "target " ~ target.name ~ " has no landing table " ~ missing | sort | join(", ")
                ~ ": build with `rlhfw --target " ~ target.name ~ " build`, which loads them"
            ) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}


{% macro duckdb__check_landing() %}
    {%- if execute -%}
        {%- set root = landing_root() -%}
        {%- set probes = [] -%}
        {%- for table in landing_tables() -%}
            {%- do probes.append(
                "select '" ~ table ~ "' as landed_table, count(*) as n_files from glob('"
                ~ landing_glob(root) ~ "/" ~ table ~ "/*.parquet')"
            ) -%}
        {%- endfor -%}
        {%- set result = run_query(probes | join(' union all ')) -%}
        {%- set missing = [] -%}
        {%- for row in result.rows -%}
            {%- if row[1] == 0 -%}
                {%- do missing.append(row[0]) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                "landing zone " ~ root ~ " has no " ~ missing | sort | join(", ")
                ~ " table: run `rlhfw extract` first, or set RLHFW_LANDING to a landing zone"
            ) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}


{% macro with_later_columns(relation, columns) %}
    {#-
        `relation` with each of `columns` ((name, type) pairs) that it lacks, as NULLs: columns
        a landed table gained after its first release. On DuckDB, batches landed before them
        read as nulls next to newer ones (union_by_name), but a landing zone holding only such
        batches has no such column at all, so a zero-row relation adds it and a warehouse
        landed by an older version still builds. A server's landing tables always have every
        column of the contract (engines/postgres.py).
    -#}
    {{ return(adapter.dispatch('with_later_columns', 'rlhf_warehouse')(relation, columns)) }}
{% endmacro %}

{% macro default__with_later_columns(relation, columns) %}
    select * from {{ relation }}
{% endmacro %}

{% macro duckdb__with_later_columns(relation, columns) %}
    select
        {%- for name, type in columns %}
        cast(null as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    where false
    union all by name
    select * from {{ relation }}
{% endmacro %}


{% macro spark__check_landing() %}
    {#-
        Spark reads the landing zone in place: each table folder is (re)registered as an
        external Parquet table `landing_<source>.<table>` at every run, so new batch files are
        seen. mergeSchema unites the batches' columns with those of the folder's zero-row
        `schema.parquet` (the landing contract), so a batch landed before a column existed
        reads as nulls there. Dropping an external table never deletes its files.
    -#}
    {%- if execute -%}
        {%- for table in landing_tables() -%}
            {%- set source, name = table.split('/') -%}
            {%- set folder = landing_root() ~ '/' ~ table -%}
            {%- do run_query('create schema if not exists landing_' ~ source) -%}
            {%- do run_query('drop table if exists landing_' ~ source ~ '.' ~ name) -%}
            {%- do run_query(
                'create table landing_' ~ source ~ '.' ~ name ~ " using parquet options (path '"
                ~ folder | replace("\\", "\\\\") | replace("'", "\\'")
                ~ "', mergeSchema 'true')"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
