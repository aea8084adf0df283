"""Which functions untrusted SQL may call: a per-dialect allowlist of side-effect-free built-ins.

Functions are deny-by-default. A name runs only if it is listed here for the engine's dialect
(or the user allowed it by name, see ``allowed_functions`` in the run config): user-defined
functions, stored procedures and every built-in that acts outside the query (locks, files,
large objects, sleeping, configuration, sequences, remote databases, replication waits, session
variables) are refused before the statement reaches the engine.

The lists hold the names as the *engine* spells them (lower case), because the guard checks the
function names of the statement it sends, i.e. sqlglot's rendering in that dialect. Each list
is what the engine's manual documents as a pure scalar, aggregate, window or table-valued
built-in; when in doubt a name is left out (a missing name costs a refused query, an extra
one could cost the database).
"""

from __future__ import annotations

from collections.abc import Iterable

_COMMON = """
abs avg ceil ceiling coalesce count cume_dist dense_rank first_value floor lag last_value
lead length lower ltrim max min nth_value ntile nullif percent_rank rank replace round
row_number rtrim sum trim upper
"""

# SQLite core functions, date/time, math (3.35+), aggregates, windows and JSON1.
# Left out: load_extension, readfile/writefile/edit/fts3_tokenizer/zipfile (files, shell),
# changes/total_changes/last_insert_rowid (connection state), sqlite_compileoption_*, and
# every pragma_* table-valued function.
_SQLITE = """
char concat concat_ws format glob hex ifnull iif instr like likelihood likely octet_length
printf quote random randomblob sign soundex sqlite_version substr substring typeof unhex unicode
unistr unlikely zeroblob
date time datetime julianday unixepoch strftime timediff
group_concat string_agg total
acos acosh asin asinh atan atan2 atanh cos cosh degrees exp ln log log10 log2 mod pi pow power
radians sin sinh sqrt tan tanh trunc
json jsonb json_array jsonb_array json_array_length json_error_position json_extract
jsonb_extract json_insert jsonb_insert json_object jsonb_object json_patch jsonb_patch
json_pretty json_remove jsonb_remove json_replace jsonb_replace json_set jsonb_set json_type
json_valid json_quote json_group_array jsonb_group_array json_group_object jsonb_group_object
json_each json_tree
"""

# MySQL 8 / MariaDB 10+ built-ins. Left out: sleep, benchmark, get_lock, release_lock,
# release_all_locks, is_free_lock, load_file, master_pos_wait, master_gtid_wait,
# source_pos_wait, wait_for_executed_gtid_set, last_insert_id (last_insert_id(x) sets session
# state), found_rows, row_count, nextval/lastval/setval, sys_exec/sys_eval (UDFs), and
# anything from the sys schema.
_MYSQL = """
ascii bin bit_length char char_length character_length chr concat concat_ws elt export_set
field find_in_set format from_base64 hex insert instr lcase left locate lpad make_set mid
natural_sort_key oct octet_length ord position quote regexp_instr regexp_like regexp_replace
regexp_substr repeat reverse right rpad soundex space strcmp substr substring
substring_index to_base64 ucase unhex weight_string
acos asin atan atan2 conv cos cot crc32 degrees div exp greatest least ln log log10 log2 mod
pi pow power radians rand sign sin sqrt tan truncate
adddate addtime convert_tz curdate current_date current_time current_timestamp curtime date
date_add date_format date_sub datediff day dayname dayofmonth dayofweek dayofyear extract
from_days from_unixtime get_format hour last_day localtime localtimestamp makedate maketime
microsecond minute month monthname now period_add period_diff quarter sec_to_time second
str_to_date subdate subtime sysdate time time_format time_to_sec timediff timestamp
timestampadd timestampdiff to_days to_seconds unix_timestamp utc_date utc_time utc_timestamp
week weekday weekofyear year yearweek
bit_and bit_or bit_xor group_concat json_arrayagg json_objectagg std stddev stddev_pop
stddev_samp var_pop var_samp variance
if ifnull isnull interval cast convert binary
json_array json_array_append json_array_insert json_contains json_contains_path json_depth
json_extract json_insert json_keys json_length json_merge json_merge_patch
json_merge_preserve json_object json_overlaps json_pretty json_quote json_remove
json_replace json_search json_set json_type json_unquote json_valid json_value json_table
md5 sha sha1 sha2 crc32 compress uncompress uncompressed_length bit_count uuid
inet_aton inet_ntoa inet6_aton inet6_ntoa is_ipv4 is_ipv6 is_uuid
database schema version user current_user session_user system_user connection_id
charset collation coercibility is_used_lock
"""

# PostgreSQL built-ins. Left out: pg_sleep*, set_config, setseed, nextval/setval/currval/
# lastval, pg_advisory_* and pg_try_advisory_*, lo_* and lowrite/loread, pg_read_*/pg_ls_*/
# pg_stat_file/pg_file_*, dblink*, pg_terminate_/pg_cancel_backend, pg_reload_conf,
# pg_notify, txid_current/pg_current_xact_id (assign a transaction id), query_to_xml* and
# cursor_to_xml (run SQL given as a string), ts_stat/ts_rewrite (same), every replication,
# backup, WAL and statistics-reset function.
_POSTGRES = """
cbrt div exp factorial gcd lcm ln log log10 mod pi power radians degrees scale sign sqrt trunc
width_bucket random acos acosd asin asind atan atan2 atan2d atand cos cosd cot cotd sin sind
tan tand sinh cosh tanh asinh acosh atanh greatest least
ascii bit_length btrim char_length character_length chr concat concat_ws format initcap left
lpad md5 normalize octet_length overlay position quote_ident quote_literal quote_nullable
regexp_count regexp_instr regexp_like regexp_match regexp_matches regexp_replace
regexp_split_to_array regexp_split_to_table regexp_substr repeat reverse right rpad
split_part starts_with strpos substr substring to_ascii to_hex translate encode decode
convert_from convert_to string_to_array array_to_string unistr sha224 sha256 sha384 sha512
age clock_timestamp current_date current_time current_timestamp date_add date_bin date_part
date_subtract date_trunc extract isfinite justify_days justify_hours justify_interval
localtime localtimestamp make_date make_interval make_time make_timestamp make_timestamptz
now statement_timestamp timeofday transaction_timestamp to_char to_date to_number
to_timestamp
array_agg bit_and bit_or bit_xor bool_and bool_or every json_agg jsonb_agg json_object_agg
jsonb_object_agg string_agg xmlagg corr covar_pop covar_samp regr_avgx regr_avgy regr_count
regr_intercept regr_r2 regr_slope regr_sxx regr_sxy regr_syy stddev stddev_pop stddev_samp
variance var_pop var_samp mode percentile_cont percentile_disc any_value
array_append array_cat array_dims array_fill array_length array_lower array_ndims
array_position array_positions array_prepend array_remove array_replace array_upper
cardinality unnest generate_series generate_subscripts trim_array
to_json to_jsonb row_to_json array_to_json json_build_object jsonb_build_object
json_build_array jsonb_build_array json_object jsonb_object json_extract_path
json_extract_path_text jsonb_extract_path jsonb_extract_path_text json_array_length
jsonb_array_length json_each jsonb_each json_each_text jsonb_each_text json_object_keys
jsonb_object_keys json_typeof jsonb_typeof jsonb_set jsonb_insert jsonb_pretty
jsonb_strip_nulls json_strip_nulls json_array_elements jsonb_array_elements
json_array_elements_text jsonb_array_elements_text jsonb_path_exists jsonb_path_match
jsonb_path_query jsonb_path_query_array jsonb_path_query_first
to_tsvector to_tsquery plainto_tsquery phraseto_tsquery websearch_to_tsquery ts_rank
ts_rank_cd ts_headline setweight strip numnode querytree
current_database current_schema current_schemas current_user session_user current_catalog
current_role user version current_setting pg_typeof format_type pg_backend_pid
table_to_xml xmlconcat xmlelement xmlforest xmlparse xmlpi xmlroot xmlserialize xpath
xpath_exists
"""



def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ALLOWED_FUNCTIONS: dict[str, frozenset[str]] = {
    dialect: _words(_COMMON + extra)
    for dialect, extra in (("sqlite", _SQLITE), ("mysql", _MYSQL), ("postgres", _POSTGRES))
}

# Built-ins that act outside the query. They are not needed for the decision (anything not
# allowlisted is refused), but the SQLite engine's authorizer refuses them as a second wall,
# and the refusal message names the family.
SIDE_EFFECT_FUNCTIONS = _words(
    """
    load_extension readfile writefile edit fts3_tokenizer zipfile
    load_file get_lock release_lock release_all_locks is_free_lock master_pos_wait
    master_gtid_wait source_pos_wait wait_for_executed_gtid_set
    wait_until_sql_thread_after_gtids sys_exec sys_eval benchmark sleep last_insert_id
    set_config pg_sleep pg_sleep_for pg_sleep_until setseed pg_terminate_backend
    pg_cancel_backend pg_reload_conf pg_rotate_logfile pg_read_file pg_read_binary_file
    pg_ls_dir pg_stat_file lo_import lo_export lo_unlink lo_create lo_creat lo_from_bytea lo_put
    lo_open lo_truncate lo_truncate64 lowrite loread lo_write dblink dblink_exec dblink_connect
    pg_advisory_lock pg_advisory_xact_lock pg_try_advisory_lock pg_advisory_lock_shared
    pg_advisory_unlock pg_advisory_unlock_all pg_notify nextval setval currval lastval
    pg_switch_wal pg_promote pg_create_restore_point pg_logical_emit_message
    pg_import_system_collations txid_current pg_current_xact_id pg_file_write pg_file_rename
    pg_file_unlink pg_file_sync pg_log_backend_memory_contexts pg_stat_reset query_to_xml
    query_to_xmlschema query_to_xml_and_xmlschema cursor_to_xml ts_stat ts_rewrite
    """
)


def normalize_function_name(name: str) -> str:
    """The lower-case bare name: quotes stripped (``"pg_sleep"``, `` `load_file` ``)."""
    return name.strip().strip('"`[]').lower()


def allowed_function_names(dialect: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The names untrusted SQL may call on `dialect`, plus the user's `extra` names."""
    base = ALLOWED_FUNCTIONS.get(dialect)
    if base is None:
        raise ValueError(f"no function allowlist for dialect {dialect!r}")
    added = frozenset(normalize_function_name(n) for n in extra if str(n).strip())
    return base | added


def is_allowed_function(name: str, dialect: str, extra: Iterable[str] = ()) -> bool:
    """Whether a call of `name` (any case, quoted or not, unqualified) may run on `dialect`."""
    return normalize_function_name(name) in allowed_function_names(dialect, extra)
