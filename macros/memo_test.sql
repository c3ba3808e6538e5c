{#-
    Data tests under memo (macros/memo.sql): a test that passed on exactly these inputs (the
    same compiled SQL, the same fingerprints of every relation it reads) passes again, so a
    refresh does not re-scan tables it kept. Only a pass with zero failures is remembered; a
    warning or failure runs again every time. Without memo (a plain `dbt build`, `dbt test`,
    `--full-refresh`) every test runs.

    A test of one table maintained by key (`memo_merge`, `landed_current`) that passed on the
    table as it was before this build's merge, every other input unchanged, runs on the rows
    the merge wrote (`<table>__memo_changes`) instead of the whole table, when that is
    equivalent: a row-by-row test (a failing row must be a new one: the others passed), or a
    uniqueness test (a repeated value must involve a new row), run on the rows that share
    their tested columns with a new row. The adapter response says `DELTA`. Row by row are
    the generic row tests, `relationships` (its parent unchanged), and singular tests that say
    so with `meta: {memo_rows_of: <model>}`. A view with `meta: {memo_row_view: true}` (one row
    per row of its only input table, with its key) is tested on its rows with a merged key.
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


{% macro _memo_test_passed(test_id, fingerprint) %}
    {#- The passes are read once per run: a test reads only its own record, before it writes
        it, and no other test writes it. -#}
    {%- set cache = graph.setdefault('rlhfw_memo_passes_' ~ invocation_id, {}) -%}
    {%- if 'passes' not in cache -%}
        {%- set passes = {} -%}
        {%- for row in run_query("select test_id, fingerprint from " ~ memo_tests_relation()).rows -%}
            {%- do passes.setdefault(row[0], []).append(row[1]) -%}
        {%- endfor -%}
        {%- do cache.update({'passes': passes}) -%}
    {%- endif -%}
    {{ return(fingerprint in cache['passes'].get(test_id, [])) }}
{% endmacro %}


{% macro _memo_test_on_changes(test_id) %}
    {#- The test's SQL run on the rows the last merge of its table wrote, or none when that
        would not be the same as running it on the whole table. -#}
    {%- set row_tests = ['not_null', 'not_null_columns', 'accepted_values', 'accepted_range',
        'within_scale', 'expression_is_true', 'relationships', 'rows_of'] -%}
    {%- set unique_tests = ['unique', 'unique_combination_of_columns'] -%}
    {%- set meta = model.config.meta or {} -%}
    {%- set kind = (model.test_metadata or {}).get('name') -%}
    {%- set deps = model.depends_on.nodes -%}
    {%- if meta.get('memo_rows_of') -%}
        {#- A singular test that declares itself row by row: each failing row is a row of
            that model, judged against inputs that must be unchanged. -#}
        {%- set kind = 'rows_of' -%}
        {%- set named = [] -%}
        {%- for node_id in deps if node_id in graph.nodes
            and graph.nodes[node_id].name == meta.get('memo_rows_of') -%}
            {%- do named.append(node_id) -%}
        {%- endfor -%}
        {%- set tested_id = named[0] if named | length == 1 else none -%}
    {%- elif kind in row_tests + unique_tests -%}
        {%- set tested_id = model.attached_node -%}
        {#- A relationships test reads its parent too: the parent must be unchanged, which the
            fingerprint check below makes sure of. Any other test reads its model only. -#}
        {%- if deps | length != (2 if kind == 'relationships' else 1) -%}
            {{ return(none) }}
        {%- endif -%}
    {%- else -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if tested_id not in deps or tested_id not in graph.nodes -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set tested = graph.nodes[tested_id] -%}
    {%- set relation = api.Relation.create(
        database=tested.database, schema=tested.schema, identifier=tested.alias or tested.name
    ) -%}
    {#- A view declared `memo_row_view` keeps one row of its only input table per row, with that
        table's key: its changed rows are those with a key the table's merge wrote. -#}
    {%- set table = tested -%}
    {%- if tested.config.materialized == 'view'
        and (tested.config.meta or {}).get('memo_row_view') -%}
        {%- set inputs = tested.depends_on.nodes | select('in', graph.nodes) | list -%}
        {%- set table = graph.nodes[inputs[0]] if inputs | length == 1 else none -%}
    {%- endif -%}
    {%- if table is none or table.config.materialized not in ('memo_merge', 'landed_current') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set table_relation = api.Relation.create(
        database=table.database, schema=table.schema, identifier=table.alias or table.name
    ) -%}
    {%- set changes = memo_changes_relation(table_relation) -%}
    {%- set record = memo_changes_record(changes) -%}
    {%- if record is none or (relation | string) not in sql -%}
        {{ return(none) }}
    {%- endif -%}
    {#- The fingerprint this test had when it last ran, if only the merge changed since. -#}
    {%- set before = memo_fingerprint(swap=[record.after, record.before]) -%}
    {%- if before is none
        or not _memo_test_passed(test_id, local_md5(before ~ '|' ~ sql)) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set kwargs = model.test_metadata.kwargs if model.test_metadata else {} -%}
    {%- set key = table.config.unique_key -%}
    {%- set key = [key] if key is string else key -%}
    {#- The merged rows; the changes also list the keys a merge removed (tombstones). -#}
    {%- set tombstone = (table.config.meta or {}).get('memo_tombstone') -%}
    {%- set merged = '(select * from ' ~ changes
        ~ (' where not (' ~ tombstone ~ ')' if tombstone else '') ~ ')' -%}
    {%- if table.unique_id != tested.unique_id -%}
        {#- The view's rows for the merged keys: kept by the view's post-hook when it was built
            on this merge (`memo_row_view_changes`), else picked from the whole view. -#}
        {%- set view_rows = memo_changes_relation(relation) -%}
        {%- if memo_changes_record(view_rows) == dict(record, rows=_memo_rows_stamp(merged)) -%}
            {%- set merged = '(select * from ' ~ view_rows ~ ')' -%}
        {%- else -%}
            {%- set merged = '(select memo_view.* from ' ~ relation ~ ' as memo_view semi join '
                ~ merged ~ ' as memo_keys on ' ~ memo_same_columns('memo_view', 'memo_keys', key)
                ~ ')' -%}
        {%- endif -%}
    {%- endif -%}
    {%- if kind in row_tests -%}
        {%- set scoped = merged -%}
    {%- else -%}
        {%- set columns = kwargs.get('combination_of_columns') or [kwargs.get('column_name')] -%}
        {%- if columns | sort == key | sort -%}
            {#- The merge deleted every old row with a new row's key. -#}
            {%- set scoped = merged -%}
        {%- else -%}
            {%- set scoped = '(select * from ' ~ relation ~ ' as memo_old where exists (select 1 from '
                ~ merged ~ ' as memo_new where '
                ~ memo_same_columns('memo_old', 'memo_new', columns) ~ '))' -%}
        {%- endif -%}
    {%- endif -%}
    {{ return({'sql': sql | replace(relation | string, scoped), 'changes': changes}) }}
{% endmacro %}


{% macro memo_row_view_changes() %}
    {#-
        Post-hook of a view declared `memo_row_view`: when its input table was merged, keep the
        view's rows for the merged keys in `<view>__memo_changes` (the view's own SQL run on the
        merged rows, labelled with that merge's record), so its tests on changes read those
        rows instead of picking them out of the whole view, one scan each. Otherwise any older
        such table is dropped.
    -#}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set view_rows = memo_changes_relation(this) -%}
    {%- set inputs = model.depends_on.nodes | select('in', graph.nodes) | list -%}
    {%- set table = graph.nodes[inputs[0]] if inputs | length == 1 else none -%}
    {%- if memo_enabled() and table is not none
        and table.config.materialized in ('memo_merge', 'landed_current') -%}
        {%- set table_relation = api.Relation.create(
            database=table.database, schema=table.schema, identifier=table.alias or table.name
        ) -%}
        {%- set changes = memo_changes_relation(table_relation) -%}
        {%- set record = memo_changes_record(changes) -%}
        {%- if record is not none and (table_relation | string) in sql -%}
            {%- set tombstone = (table.config.meta or {}).get('memo_tombstone') -%}
            {%- set merged = '(select * from ' ~ changes
                ~ (' where not (' ~ tombstone ~ ')' if tombstone else '') ~ ')' -%}
            {#- Labelled with the merge's record and a stamp of the merged rows it was made
                from: a test reads it only while both still hold. -#}
            {%- set label = dict(record, rows=_memo_rows_stamp(merged)) -%}
            {{ return('create or replace table ' ~ view_rows ~ ' as '
                ~ sql | replace(table_relation | string, merged) ~ ';\n'
                ~ "comment on table " ~ view_rows ~ " is 'rlhfw-memo-changes:"
                ~ (tojson(label) | replace("'", "''")) ~ "'") }}
        {%- endif -%}
    {%- endif -%}
    {{ return('drop table if exists ' ~ view_rows) }}
{% endmacro %}


{% macro _memo_rows_stamp(rows) %}
    {#- Row count and sum of row hashes of a query's rows (a few thousand merged rows). -#}
    {%- set stamp = run_query('select count(*), sum(hash(t)) from ' ~ rows ~ ' as t').rows[0] -%}
    {{ return(stamp[0] ~ ':' ~ stamp[1]) }}
{% endmacro %}


{%- materialization test, adapter='duckdb' -%}
    {%- if not memo_enabled() or should_store_failures() -%}
        {{ return(materialization_test_default()) }}
    {%- endif -%}
    {%- set fingerprint = local_md5(memo_fingerprint() ~ '|' ~ sql) -%}
    {%- set test_id = model.unique_id -%}
    {%- if _memo_test_passed(test_id, fingerprint) -%}
        {%- set cache = graph.setdefault('rlhfw_memo_zero_' ~ invocation_id, {}) -%}
        {%- if 'zero' not in cache -%}
            {%- do cache.update({'zero': run_query(
                'select 0 as failures, false as should_warn, false as should_error'
            )}) -%}
        {%- endif -%}
        {%- set zero = cache['zero'] -%}
        {%- call noop_statement('main', 'KEPT (passed on these inputs)', 'KEPT', 0, zero) -%}
            -- passed before on inputs {{ fingerprint }}
        {%- endcall -%}
        {{ return({'relations': []}) }}
    {%- endif -%}
    {%- set on_changes = _memo_test_on_changes(test_id) -%}
    {%- if on_changes is not none -%}
        {%- set outcome = run_query(get_test_sql(
            get_limit_subquery_sql(on_changes.sql, config.get('limit')),
            config.get('fail_calc'), config.get('warn_if'), config.get('error_if'), limit=none
        )) -%}
        {%- call noop_statement(
            'main', 'DELTA (run on the rows of ' ~ on_changes.changes.identifier ~ ')', 'DELTA', 0,
            outcome
        ) -%}
            -- run on the changed rows only: {{ on_changes.sql }}
        {%- endcall -%}
        {%- set result = {'relations': []} -%}
    {%- else -%}
        {%- set result = materialization_test_default() -%}
    {%- endif -%}
    {%- set failures = load_result('main')['table'].rows[0][0] -%}
    {#- Recorded by `memo_tests_record` when the run ends, all in one write: a delete,
        insert and commit per test were 71 writes in a 1% refresh at 100x (their deletes
        alone 0.74 s). -#}
    {%- do graph.setdefault('rlhfw_memo_test_outcomes_' ~ invocation_id, {}).update(
        {test_id: fingerprint if failures == 0 else none}
    ) -%}
    {{ return(result) }}
{%- endmaterialization -%}


{% macro memo_tests_record() %}
    {#- on-run-end: what the tests that ran found, in `_rlhfw_memo_tests`: a pass with zero
        failures is remembered with its fingerprint, anything else forgets the test's earlier
        pass. A run that dies before its end records nothing, so its tests run again next
        time. -#}
    {%- set outcomes = graph.get('rlhfw_memo_test_outcomes_' ~ invocation_id, {}) -%}
    {%- if execute and outcomes -%}
        {%- set memo = memo_tests_relation() -%}
        {%- set ids = [] -%}
        {%- set passes = [] -%}
        {%- for test_id, fingerprint in outcomes.items() | sort -%}
            {%- set quoted = "'" ~ test_id | replace("'", "''") ~ "'" -%}
            {%- do ids.append(quoted) -%}
            {%- if fingerprint is not none -%}
                {%- do passes.append('(' ~ quoted ~ ", '" ~ fingerprint ~ "')") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- call statement('memo_tests_record') -%}
            delete from {{ memo }} where test_id in ({{ ids | join(', ') }})
            {%- if passes %};
            insert into {{ memo }} values {{ passes | join(', ') }}
            {%- endif %}
        {%- endcall -%}
        {%- do adapter.commit() -%}
    {%- endif -%}
{% endmacro %}
