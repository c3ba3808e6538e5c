{#-
    Rebuild avoidance ("memo") for the scheduled refresh: a table is kept, or its rows reused,
    when everything it is computed from is unchanged since it was built. docs/architecture.md
    ("Incremental refresh") has the rules; tests/models/test_memo.py proves a memo build equals
    a from-scratch build.

    A fingerprint covers: the project's code version (the `rlhfw_code_version` var, a hash of
    models/, macros/, seeds/ and the pins that `rlhfw` passes; without it memo is off and every
    table is rebuilt, as in a plain `dbt build`), and every input reached through the model's
    dependencies: an upstream table or seed by a hash of its content, a view by its own inputs,
    a landed table by the count, latest batch and row hashes of its rows. Landing is append-
    only, so those change whenever a landed table gains a row. `meta.memo_roles` narrows the
    landed tables whose datasets belong to one study to the rows of the roles a model reads
    (plus rows without a role, and rows of any dataset ever landed under those roles), so new
    ratings keep the writing side. `--full-refresh` turns memo off.
-#}

{% macro memo_enabled() %}
    {#- Never inside a unit test: its fixtures, not the warehouse, are the inputs. -#}
    {{ return(
        execute and var('rlhfw_code_version', none) is not none and not flags.FULL_REFRESH
        and model.resource_type != 'unit_test'
    ) }}
{% endmacro %}


{% macro memo_role_tables() %}
    {#- Landed tables whose rows each belong to one study (writing or rating) by dataset. -#}
    {{ return(['argilla/records', 'argilla/responses', 'argilla/settings', 'study/sources']) }}
{% endmacro %}


{% macro memo_fingerprint(roles=none, exclude=[], swap=none) %}
    {#-
        The fingerprint of the current model's inputs, as a string. `exclude` names refs the
        model compares row by row itself (a row-level memo), left out here. `swap` is
        [part, other]: the fingerprint with one input's part (as `_memo_collect` writes it)
        replaced, or none when the inputs have no such part.
    -#}
    {%- set parts = ['code=' ~ var('rlhfw_code_version', '') ~ ';roles=' ~ (roles or []) | join(',')] -%}
    {%- set seen = [] -%}
    {%- do _memo_collect(model.depends_on.nodes, roles, exclude, parts, seen) -%}
    {%- if swap is not none -%}
        {%- if swap[0] not in parts -%}
            {{ return(none) }}
        {%- endif -%}
        {%- set swapped = [] -%}
        {%- for part in parts -%}
            {%- do swapped.append(swap[1] if part == swap[0] else part) -%}
        {%- endfor -%}
        {%- set parts = swapped -%}
    {%- endif -%}
    {{ return(local_md5(parts | join('|'))) }}
{% endmacro %}


{% macro _memo_collect(node_ids, roles, exclude, parts, seen) %}
    {%- for node_id in node_ids | sort -%}
        {%- if node_id not in seen -%}
            {%- do seen.append(node_id) -%}
            {%- if node_id.startswith('source.') -%}
                {%- do parts.append(memo_landed_part(node_id, roles)) -%}
            {%- elif node_id in graph.nodes -%}
                {%- set node = graph.nodes[node_id] -%}
                {%- if node.name in exclude -%}
                    {#- compared row by row by the model itself -#}
                {%- elif node.resource_type == 'model'
                    and node.config.materialized in ('view', 'ephemeral', 'landed_current') -%}
                    {#- A view, or a table of landed versions: fingerprinted by its inputs. -#}
                    {%- do _memo_collect(node.depends_on.nodes, roles, exclude, parts, seen) -%}
                {%- else -%}
                    {%- do parts.append(_memo_table_part(node_id, node)) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}


{% macro _memo_table_part(node_id, node) %}
    {#- An upstream table is final once a reader runs (dbt runs a node after its parents), so
        its part is read once per run. -#}
    {%- set cache = graph.setdefault('rlhfw_memo_tables_' ~ invocation_id, {}) -%}
    {%- if node_id not in cache -%}
        {%- do cache.update({node_id: _memo_table_part_read(node_id, node)}) -%}
    {%- endif -%}
    {{ return(cache[node_id]) }}
{% endmacro %}


{% macro _memo_table_part_read(node_id, node) %}
    {%- set relation = api.Relation.create(
        database=node.database, schema=node.schema, identifier=node.alias or node.name
    ) -%}
    {#- A table built under memo carries the hash of its content; any other table is hashed
        here. -#}
    {%- set stamp = memo_stored_fingerprint(relation, 'content') -%}
    {%- if stamp -%}
        {{ return(node_id ~ '=stamp:' ~ stamp) }}
    {%- endif -%}
    {%- set result = run_query("select count(*), sum(hash(t)) from " ~ relation ~ " as t") -%}
    {{ return(node_id ~ '=' ~ result.rows[0] | join(':')) }}
{% endmacro %}


{% macro memo_landed_relation() %}
    {{ return(api.Relation.create(
        database=target.database, schema=target.schema, identifier='_rlhfw_memo_landed'
    )) }}
{% endmacro %}


{% macro memo_landed_prepare() %}
    {#- on-run-start: the row count and row-hash sum of every landed batch (per dataset and
        role in the tables whose rows belong to a study), kept in `_rlhfw_memo_landed` and
        brought up to date with the landing here, before nodes run side by side. A landed file
        is never rewritten, so a batch's sums never change: a run hashes only the batches it
        has not seen, where every fingerprint used to hash every landed row. Batches no longer
        in the landing (files removed by hand, another landing zone) are dropped. -#}
    {%- if execute and var('rlhfw_code_version', none) is not none and not flags.FULL_REFRESH -%}
        {%- set cache = memo_landed_relation() -%}
        {%- do run_query(
            'create table if not exists ' ~ cache ~ ' (landed_table varchar, batch_id varchar,'
            ~ ' workspace varchar, dataset varchar, study_role varchar, n_rows bigint,'
            ~ ' row_hash_sum hugeint)'
        ) -%}
        {%- for node_id, src in graph.sources.items() | sort -%}
            {%- set table = src.source_name ~ '/' ~ src.name -%}
            {%- if table in landing_tables() -%}
                {%- set landed = landing_source(src.source_name, src.name) -%}
                {%- set mine = "landed_table = '" ~ table ~ "'" -%}
                {%- set new = run_query(
                    'select distinct _batch_id from ' ~ landed ~ ' where _batch_id not in'
                    ~ ' (select batch_id from ' ~ cache ~ ' where ' ~ mine ~ ') order by 1'
                ).rows | map(attribute=0) | list -%}
                {%- set groups = 'workspace, dataset, study_role'
                    if table in memo_role_tables()
                    else 'null::varchar, null::varchar, null::varchar' -%}
                {%- call statement('memo_landed_' ~ loop.index) -%}
                    delete from {{ cache }} where {{ mine }} and batch_id not in
                        (select distinct _batch_id from {{ landed }});
                    {%- if new %}
                    insert into {{ cache }}
                    select '{{ table }}', _batch_id, {{ groups }}, count(*), sum(hash(_row_sha256))
                    from {{ landed }}
                    where _batch_id in ({{ _landed_batch_literals(new) }})
                    group by all
                    {%- endif %}
                {%- endcall -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do adapter.commit() -%}
        {%- do graph.update({'rlhfw_memo_landed_ready_' ~ invocation_id: true}) -%}
    {%- endif -%}
{% endmacro %}


{% macro memo_landed_part(node_id, roles=none) %}
    {#- A landed table's part of a fingerprint: its row count, latest batch and row hashes,
        summed from the per-batch sums (`memo_landed_prepare`), or read from the landing when
        those are not prepared in this run. -#}
    {%- set src = graph.sources[node_id] -%}
    {%- set table = src.source_name ~ '/' ~ src.name -%}
    {%- set prepared = graph.get('rlhfw_memo_landed_ready_' ~ invocation_id, false) -%}
    {%- set landed = memo_landed_relation() if prepared
        else landing_source(src.source_name, src.name) -%}
    {%- set where = " where landed_table = '" ~ table ~ "'" if prepared else '' -%}
    {%- if roles and table in memo_role_tables() -%}
        {#- A row of another study counts too when its dataset was ever landed under these
            roles: a dataset that changed study must rebuild. -#}
        {%- set in_roles = "study_role in ('" ~ roles | join("', '") ~ "')" -%}
        {%- set where = (where ~ ' and (' if where else ' where (') ~ 'study_role is null or '
            ~ in_roles ~ " or exists (select 1 from " ~ landed ~ " as same where same."
            ~ in_roles ~ " and same.workspace is not distinct from t.workspace"
            ~ " and same.dataset is not distinct from t.dataset"
            ~ (" and same.landed_table = t.landed_table" if prepared else '') ~ '))' -%}
    {%- endif -%}
    {%- set query = ("select coalesce(sum(n_rows), 0), max(batch_id), sum(row_hash_sum) from "
        if prepared else "select count(*), max(_batch_id), sum(hash(_row_sha256)) from ")
        ~ landed ~ " as t" ~ where -%}
    {#- Landed tables do not change during a build (a refresh holds its lock), so each is read
        once per run (a cache in dbt's graph, keyed by the run). -#}
    {%- set cache = graph.setdefault('rlhfw_memo_landed_' ~ invocation_id, {}) -%}
    {%- if query not in cache -%}
        {%- do cache.update({query: run_query(query).rows[0] | join(':')}) -%}
    {%- endif -%}
    {{ return(node_id ~ '=' ~ cache[query]) }}
{% endmacro %}


{% macro memo_changes_relation(relation) %}
    {#- The rows the last merge of a table maintained by key wrote (macros/memo_test.sql). -#}
    {{ return(relation.incorporate(path={'identifier': relation.identifier ~ '__memo_changes'})) }}
{% endmacro %}


{% macro memo_removed_relation(relation) %}
    {#- The rows the last merge of a table deleted (their state before it), kept for readers
        that update sums from them when the table's `meta.memo_keep_removed` is set. -#}
    {{ return(relation.incorporate(path={'identifier': relation.identifier ~ '__memo_removed'})) }}
{% endmacro %}


{% macro memo_changes_record(changes) %}
    {#- {before, after}: the table's fingerprint part before and after the merge that wrote
        `changes`, or none when there is no such table. Read once per run: a merge writes its
        record before any reader of the table runs. -#}
    {%- set cache = graph.setdefault('rlhfw_memo_changes_' ~ invocation_id, {}) -%}
    {%- if (changes | string) not in cache -%}
        {%- set note = memo_table_note(changes, 'rlhfw-memo-changes:') -%}
        {%- do cache.update({changes | string: fromjson(note) if note else none}) -%}
    {%- endif -%}
    {{ return(cache[changes | string]) }}
{% endmacro %}


{% macro memo_record_changes(delta_sql, before, after) %}
    {#- Keeps the rows a merge wrote (from `delta_sql`), labelled with the table's fingerprint
        part before and after it, for the tests of the table; without a `before` (no earlier
        state to compare with) any older record is dropped. -#}
    {%- set changes = memo_changes_relation(this) -%}
    {%- call statement('memo_changes') -%}
        {%- if before is not none and after is not none %}
        create or replace table {{ changes }} as {{ delta_sql }};
        comment on table {{ changes }} is 'rlhfw-memo-changes:{{
            tojson({'before': before, 'after': after}) | replace("'", "''") }}'
        {%- else %}
        drop table if exists {{ changes }};
        drop table if exists {{ memo_removed_relation(this) }}
        {%- endif %}
    {%- endcall -%}
{% endmacro %}


{% macro memo_reusable_rows(roles=none, exclude=[], changes_from=[], compared=[]) %}
    {#-
        Row-level memo for a `memo_merge` table built per key of a row source (the rating
        records, the counted ratings of a pair): `roles` or `exclude` leave that source out of
        the fingerprint, which then covers every other input. Returns a dict:
        - 'fingerprint': that fingerprint;
        - 'previous': the previous build, when it was stamped (column `memo_inputs_fingerprint`)
          with the same fingerprint, so only keys whose source rows changed need computing
          again; else none;
        - 'changes': with a previous build, {name: rows} for each ref named in `changes_from`:
          a relation holding the rows the last merge of that table wrote (no rows when it is
          unchanged), when those are all that changed in the excluded inputs since the
          previous build; else none, and the model compares its sources row by row.
          Excluded inputs named in `compared` may change too: the model finds what changed in
          them itself (against values its rows keep).
        - 'removed': with 'changes', {name: rows} for those of them whose `meta` sets
          `memo_keep_removed`: the rows that merge deleted, as they were (no rows when it is
          unchanged); a model keeping sums over the table subtracts them and adds 'changes'.
    -#}
    {%- if not memo_enabled() -%}
        {{ return({'fingerprint': none, 'previous': none, 'changes': none, 'removed': none}) }}
    {%- endif -%}
    {%- set fingerprint = memo_fingerprint(roles=roles, exclude=exclude) -%}
    {#- The parts of the inputs compared row by row, as this build reads them: the merge stamps
        them on the table (`_memo_stamp_by_key`) for the next build. -#}
    {%- set parts = {} -%}
    {%- set tracked = [] -%}
    {%- for name in exclude + changes_from if name not in compared -%}
        {%- do tracked.append(name) -%}
    {%- endfor -%}
    {%- do _memo_row_input_parts(model.depends_on.nodes, tracked, parts) -%}
    {%- do graph.setdefault('rlhfw_memo_row_inputs_' ~ invocation_id, {}).update(
        {model.unique_id: parts}
    ) -%}
    {%- set existing = adapter.get_relation(
        database=this.database, schema=this.schema, identifier=this.identifier
    ) -%}
    {%- if existing is none or not existing.is_table
        or 'memo_inputs_fingerprint' not in (
            adapter.get_columns_in_relation(existing) | map(attribute='name') | list
        ) -%}
        {{ return({'fingerprint': fingerprint, 'previous': none, 'changes': none, 'removed': none}) }}
    {%- endif -%}
    {%- set stamped = run_query(
        "select min(memo_inputs_fingerprint), max(memo_inputs_fingerprint) from " ~ existing
    ).rows[0] -%}
    {%- if not (stamped[0] == fingerprint and stamped[1] == fingerprint) -%}
        {{ return({'fingerprint': fingerprint, 'previous': none, 'changes': none, 'removed': none}) }}
    {%- endif -%}
    {%- set recorded = memo_stored_fingerprint(existing, 'row_inputs') -%}
    {%- set removed = {} -%}
    {%- set changes = _memo_changes_since(parts, fromjson(recorded) if recorded else none,
        changes_from, removed) -%}
    {{ return({'fingerprint': fingerprint, 'previous': existing, 'changes': changes,
               'removed': removed if changes is not none else none}) }}
{% endmacro %}


{% macro _memo_row_input_parts(node_ids, names, parts) %}
    {#- node id -> fingerprint part, for the refs named in `names` (through views, for each
        table or landed table they read), in the form a merge's changes record uses. -#}
    {%- for node_id in node_ids | sort if node_id in graph.nodes -%}
        {%- set node = graph.nodes[node_id] -%}
        {%- if names is none or node.name in names -%}
            {%- if node.config.materialized in ('view', 'ephemeral') -%}
                {%- do _memo_row_input_parts(node.depends_on.nodes, none, parts) -%}
            {%- elif node.config.materialized == 'landed_current' -%}
                {#- as the table records its changes: by its landed source -#}
                {%- for source_id in node.depends_on.nodes if source_id.startswith('source.') -%}
                    {%- if loop.first -%}
                        {%- do parts.update({node_id: memo_landed_part(source_id)}) -%}
                    {%- endif -%}
                {%- endfor -%}
            {%- else -%}
                {%- do parts.update({node_id: _memo_table_part(node_id, node)}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for node_id in node_ids | sort if node_id.startswith('source.') and names is none -%}
        {%- do parts.update({node_id: memo_landed_part(node_id)}) -%}
    {%- endfor -%}
{% endmacro %}


{% macro _memo_changes_since(parts, recorded, changes_from, removed) %}
    {#- {name: changes relation or none} when every input in `parts` is as `recorded` (at the
        previous build), or is a table in `changes_from` whose last merge started from the
        recorded state and gave the current one; else none. Fills `removed` with the deleted
        rows of those tables that keep them. -#}
    {%- if recorded is none or recorded.keys() | sort != parts.keys() | sort -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set changes = {} -%}
    {%- for node_id in parts | sort -%}
        {#- a landed source, read through a view, is never merged: it must be unchanged -#}
        {%- set node = graph.nodes.get(node_id) or {'name': none} -%}
        {%- if node.name in changes_from -%}
            {%- set table = api.Relation.create(
                database=node.database, schema=node.schema, identifier=node.alias or node.name
            ) -%}
            {#- unchanged: no rows -#}
            {%- do changes.update({node.name: '(select * from ' ~ table ~ ' limit 0)'}) -%}
            {%- set keeps_removed = (node.config.meta or {}).get('memo_keep_removed') -%}
            {%- if keeps_removed -%}
                {%- do removed.update({node.name: '(select * from ' ~ table ~ ' limit 0)'}) -%}
            {%- endif -%}
        {%- endif -%}
        {%- if recorded[node_id] != parts[node_id] -%}
            {%- if node.name not in changes_from -%}
                {{ return(none) }}
            {%- endif -%}
            {%- set relation = memo_changes_relation(table) -%}
            {%- set record = memo_changes_record(relation) -%}
            {%- if record is none or record.before != recorded[node_id]
                or record.after != parts[node_id] -%}
                {{ return(none) }}
            {%- endif -%}
            {%- do changes.update({node.name: relation | string}) -%}
            {%- if keeps_removed -%}
                {%- do removed.update({node.name: memo_removed_relation(table) | string}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(changes) }}
{% endmacro %}


{% macro memo_table_note(relation, prefix) %}
    {#- What memo wrote in a table's comment after `prefix`, or none. -#}
    {%- set result = run_query(
        "select comment from duckdb_tables() where database_name = '" ~ relation.database
        ~ "' and schema_name = '" ~ relation.schema ~ "' and table_name = '"
        ~ relation.identifier ~ "'"
    ) -%}
    {%- set comment = result.rows[0][0] if result.rows | length > 0 else none -%}
    {%- if comment and comment.startswith(prefix) -%}
        {{ return(comment[prefix | length:]) }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}


{% macro memo_stored_fingerprint(relation, part='inputs') %}
    {%- set note = memo_table_note(relation, 'rlhfw-memo:') -%}
    {%- if note -%}
        {#- 'rlhfw-memo:<inputs fingerprint>' then, for a table, '|<content hash>', and for a
            table maintained by key '|<JSON: the parts of the inputs it compares row by row>' -#}
        {%- set stamp = note.split('|', 2) -%}
        {%- set index = {'inputs': 0, 'content': 1, 'row_inputs': 2}[part] -%}
        {{ return(stamp[index] if stamp | length > index else none) }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}


{% materialization memoized_table, adapter='duckdb' %}
    {#-
        A table that is kept as it is when its fingerprint matches the one stored with it (in
        the table's comment); otherwise built like `table`, then stamped.
    -#}
    {%- set existing = load_cached_relation(this) -%}
    {%- set fingerprint = none -%}
    {%- if memo_enabled() -%}
        {%- set fingerprint = memo_fingerprint(roles=_memo_meta('memo_roles')) -%}
        {%- if existing is not none and existing.is_table
            and memo_stored_fingerprint(existing) == fingerprint -%}
            {%- call noop_statement('main', 'KEPT (inputs unchanged)', 'KEPT', 0) -%}
                -- kept: inputs unchanged since the build stamped {{ fingerprint }}
            {%- endcall -%}
            {{ return({'relations': [this.incorporate(type='table')]}) }}
        {%- endif -%}
    {%- endif -%}
    {%- set result = materialization_table_duckdb() -%}
    {%- do _memo_stamp(fingerprint) -%}
    {{ return(result) }}
{% endmaterialization %}


{% materialization memo_merge, adapter='duckdb' %}
    {#-
        A table maintained by key. When the model can reuse its previous build (its SQL then
        carries the marker `rlhfw-memo: delta`, from `memo_delta_marker(memo)`), the SQL returns
        only the keys that changed: their new rows, or tombstones (rows where
        `meta.memo_tombstone` holds) for keys that no longer exist. Those keys are deleted and
        the new rows inserted, so a refresh writes a few rows instead of the whole table.
        Otherwise it is built like `table`.
    -#}
    {%- set existing = load_cached_relation(this) -%}
    {%- if existing is none or not existing.is_table
        or 'rlhfw-memo: delta' not in compiled_code -%}
        {%- set result = materialization_table_duckdb() -%}
        {%- do _memo_stamp_by_key() -%}
        {%- do memo_record_changes(none, none, none) -%}
        {%- do adapter.commit() -%}
        {{ return(result) }}
    {%- endif -%}
    {%- set before = memo_stored_fingerprint(existing, 'content') -%}
    {%- set keys = config.require('unique_key') -%}
    {%- set keys = [keys] if keys is string else keys -%}
    {%- set tombstone = _memo_meta('memo_tombstone') -%}
    {%- if not tombstone -%}
        {{ exceptions.raise_compiler_error(this ~ ': memo_merge needs meta.memo_tombstone') }}
    {%- endif -%}
    {%- set delta = this.identifier ~ '__memo_delta' -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {#- The delta takes the table's own column types and order, so a row hashes the same in
        both: the content hash below needs no second look at the table. -#}
    {%- call statement('memo_delta') -%}
        create or replace temp table {{ delta }} as select * from {{ this }} limit 0;
        insert into {{ delta }} by name {{ compiled_code }}
    {%- endcall -%}
    {%- set same_key = memo_same_columns('kept', 'changed', keys) -%}
    {%- set by_hash = 'memo_key_hash' in compiled_code -%}
    {%- if by_hash -%}
        {#- A model with `memo_key_hash_column()` stores a hash of its key: the rows to replace
            are then found by one integer column instead of by reading and hashing every row's
            key values. The model's rows carry it; tombstones (keys only) get theirs here. -#}
        {%- call statement('memo_key_hash') -%}
            update {{ delta }} set memo_key_hash = {{ memo_key_hash_column() }}
            where memo_key_hash is null
        {%- endcall -%}
    {%- endif -%}
    {#- The rows to replace, found by their row ids: `delete ... returning *` would read every
        column of every row (0.2-0.3 s per merge at 100x); the ids come from the key columns
        alone, and a row id filter reads only the rows they name. Row ids are stable here:
        nothing else writes this table during the merge. -#}
    {%- set removed_ids = this.identifier ~ '__memo_removed_ids' -%}
    {%- if _memo_meta('memo_keep_removed') -%}
        {#- the rows as they were, for readers that keep sums over this table -#}
        {%- set removed_rows = memo_removed_relation(this) | string -%}
        {%- set create = 'create or replace table ' ~ removed_rows -%}
    {%- else -%}
        {%- set removed_rows = this.identifier ~ '__memo_removed_now' -%}
        {%- set create = 'create or replace temp table ' ~ removed_rows -%}
    {%- endif -%}
    {%- call statement('memo_removed') -%}
        create or replace temp table {{ removed_ids }} as
        select kept.rowid as memo_rowid
        from {{ this }} as kept
        semi join {{ delta }} as changed
            on {{ 'kept.memo_key_hash = changed.memo_key_hash' if by_hash else same_key }};
        {{ create }} as
        select * from {{ this }} where rowid in (select memo_rowid from {{ removed_ids }})
    {%- endcall -%}
    {#- The content hash is a count and a sum of row hashes: the merge's change to it is that
        of the rows it deletes and inserts (the delta's rows), so the table is not hashed again
        in full. By the key hash, two keys with one 64-bit hash (about 1e-9 per refresh at
        100x) would replace a row of another key: every row found is checked against the full
        keys first, and the build stops before anything is deleted. -#}
    {%- set removed = run_query(
        'select count(*), coalesce(sum(hash(removed)), 0), count(*) filter (where not exists ('
        ~ 'select 1 from ' ~ delta ~ ' as changed where '
        ~ memo_same_columns('removed', 'changed', keys) ~ ')) from ' ~ removed_rows ~ ' as removed'
    ).rows[0] -%}
    {%- if removed[2] > 0 -%}
        {{ exceptions.raise_compiler_error(
            this ~ ': ' ~ removed[2] ~ ' row(s) of other keys share the key hash of rows this'
            ~ ' merge replaces; nothing was written. Drop the table and build again (it is'
            ~ ' then built in full).'
        ) }}
    {%- endif -%}
    {%- call statement('memo_delete') -%}
        delete from {{ this }} where rowid in (select memo_rowid from {{ removed_ids }});
        drop table {{ removed_ids }}
        {%- if not _memo_meta('memo_keep_removed') %};
        drop table {{ removed_rows }}
        {%- endif %}
    {%- endcall -%}
    {%- call statement('memo_insert', fetch_result=True) -%}
        insert into {{ this }} by name
        select * from {{ delta }} where not ({{ tombstone }})
    {%- endcall -%}
    {%- set inserted = load_result('memo_insert')['table'].rows[0][0] -%}
    {%- call noop_statement('main', 'MERGED (changed keys only: ' ~ inserted ~ ' rows)', 'MERGED', inserted) -%}
        -- changed keys applied to {{ this }}
    {%- endcall -%}
    {%- set content = none -%}
    {%- set old = (before or '').split(':') -%}
    {%- if old | length == 2 and old[0] | int > 0 and old[1] != 'None' -%}
        {%- set result = run_query(
            'select ' ~ old[0] ~ ' - ' ~ removed[0] ~ ' + count(*), '
            ~ "'" ~ old[1] ~ "'::hugeint - '" ~ removed[1] ~ "'::hugeint"
            ~ ' + coalesce(sum(hash(changed)), 0) from ' ~ delta ~ ' as changed where not ('
            ~ tombstone ~ ')'
        ).rows[0] -%}
        {#- an emptied table is hashed as any other (its sum is NULL) -#}
        {%- if result[0] > 0 -%}
            {%- set content = result | join(':') -%}
        {%- endif -%}
    {%- endif -%}
    {%- do _memo_stamp_by_key(content) -%}
    {%- set after = memo_stored_fingerprint(this, 'content') -%}
    {#- What the tests (macros/memo_test.sql) and readers (`memo_reusable_rows`) of this table
        need to look at again: the rows written and the tombstones of keys removed. -#}
    {%- do memo_record_changes(
        'select * from ' ~ delta,
        model.unique_id ~ '=stamp:' ~ before if before else none,
        model.unique_id ~ '=stamp:' ~ after if after else none
    ) -%}
    {%- call statement('memo_drop') -%}
        drop table {{ delta }}
    {%- endcall -%}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do adapter.commit() %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [this.incorporate(type='table')]}) }}
{% endmaterialization %}


{% macro memo_key_hash_column() %}
    {#- The stored hash of the model's `unique_key` by which `memo_merge` finds the rows of
        the keys it rewrites (64 bits: the merge checks the rows found against the full key). -#}
    {%- set keys = config.get('unique_key') -%}
    {%- if keys is none -%}
        {#- A unit test's model has no `unique_key` in its config; a model does. -#}
        {%- if model.resource_type != 'unit_test' -%}
            {{ exceptions.raise_compiler_error(this ~ ': memo_key_hash_column needs unique_key') }}
        {%- endif -%}
        null::ubigint
    {%- else -%}
        {%- set keys = [keys] if keys is string else keys -%}
        hash({{ keys | join(', ') }})
    {%- endif -%}
{%- endmacro %}


{% macro memo_same_columns(left, right, columns) %}
    {#- `left.c is not distinct from right.c and ...` over `columns`: a join on a key that may
        hold NULLs. -#}
    {%- set same = [] -%}
    {%- for column in columns -%}
        {%- do same.append(left ~ '.' ~ column ~ ' is not distinct from ' ~ right ~ '.' ~ column) -%}
    {%- endfor -%}
    {{ return(same | join(' and ')) }}
{% endmacro %}


{% macro memo_delta_marker(memo) %}
    {#- Tells `memo_merge` that the SQL returns changed keys only (when `memo` has a previous
        build to reuse). -#}
    {%- if memo.previous is not none %}
    -- rlhfw-memo: delta
    {% endif -%}
{% endmacro %}


{% macro memo_fingerprint_column(memo) -%}
    {#- The `memo_inputs_fingerprint` value a `memo_merge` row is stamped with. -#}
    {{ "'" ~ memo.fingerprint ~ "'" if memo.fingerprint else 'null' }}::varchar
{%- endmacro %}


{% macro _memo_stamp(fingerprint, row_inputs=none, content=none) %}
    {#- Stamps the table with the fingerprint of the inputs it was built from, and the hash of
        its content ('<rows>:<sum of row hashes>', computed here unless given): readers'
        fingerprints then use the stamp instead of hashing the table each (the content, not the
        inputs: a table rebuilt to the same rows keeps its readers).
    -#}
    {%- if fingerprint is not none -%}
        {%- if content is none -%}
            {%- set content = run_query(
                "select count(*), sum(hash(t)) from " ~ this ~ " as t"
            ).rows[0] | join(":") -%}
        {%- endif -%}
        {%- call statement('memo_stamp') -%}
            comment on table {{ this }}
            is 'rlhfw-memo:{{ fingerprint }}|{{ content }}
            {%- if row_inputs is not none %}|{{ tojson(row_inputs) | replace("'", "''") }}{% endif %}'
        {%- endcall -%}
        {%- do adapter.commit() -%}
    {%- endif -%}
{% endmacro %}


{% macro _memo_stamp_by_key(content=none) %}
    {#- A table maintained by key has no inputs' fingerprint to stamp (its rows are reused
        key by key); its content hash still serves its readers. -#}
    {%- if memo_enabled() -%}
        {%- do _memo_stamp('by-key', graph.get('rlhfw_memo_row_inputs_' ~ invocation_id, {}).get(
            model.unique_id), content) -%}
    {%- endif -%}
{% endmacro %}


{% macro _memo_meta(key) %}
    {{ return((config.get('meta') or {}).get(key)) }}
{% endmacro %}
