{#-
    Data tests under memo (macros/memo.sql): a test that passed on exactly these inputs (the
    same compiled SQL, the same fingerprints of every relation it reads) passes again, so a
    refresh does not re-scan tables it kept. Only a pass with zero failures is remembered; a
    warning or failure runs again every time. Without memo (a plain `dbt build`, `dbt test`,
    `--full-refresh`) every test runs.
-#}

{% macro memo_tests_relation() %}
    {{ return(api.Relation.create(
        database=target.database, schema=target.schema, identifier='_rlhfw_memo_tests'
    )) }}
{% endmacro %}


{% macro memo_tests_prepare() %}
    {#- on-run-start: the table of passed tests, created before tests run side by side. -#}
    {%- if execute and var('rlhfw_code_version', none) is not none and not flags.FULL_REFRESH -%}
        create table if not exists {{ memo_tests_relation() }} (test_id varchar, fingerprint varchar)
    {%- endif -%}
{% endmacro %}


{%- materialization test, adapter='duckdb' -%}
    {%- if not memo_enabled() or should_store_failures() -%}
        {{ return(materialization_test_default()) }}
    {%- endif -%}
    {%- set memo = memo_tests_relation() -%}
    {%- set fingerprint = local_md5(memo_fingerprint() ~ '|' ~ sql) -%}
    {%- set test_id = model.unique_id | replace("'", "''") -%}
    {%- set passed = run_query(
        "select count(*) from " ~ memo ~ " where test_id = '" ~ test_id
        ~ "' and fingerprint = '" ~ fingerprint ~ "'"
    ).rows[0][0] > 0 -%}
    {%- if passed -%}
        {%- set zero = run_query(
            'select 0 as failures, false as should_warn, false as should_error'
        ) -%}
        {%- call noop_statement('main', 'KEPT (passed on these inputs)', 'KEPT', 0, zero) -%}
            -- passed before on inputs {{ fingerprint }}
        {%- endcall -%}
        {{ return({'relations': []}) }}
    {%- endif -%}
    {%- set result = materialization_test_default() -%}
    {%- set failures = load_result('main')['table'].rows[0][0] -%}
    {%- call statement('memo_tests_record') -%}
        delete from {{ memo }} where test_id = '{{ test_id }}';
        {%- if failures == 0 %}
        insert into {{ memo }} values ('{{ test_id }}', '{{ fingerprint }}');
        {%- endif %}
    {%- endcall -%}
    {%- do adapter.commit() -%}
    {{ return(result) }}
{%- endmaterialization -%}
