#!/usr/bin/env python3
"""The SQL hunts outside blastradius: DuckDB runs them, sqlglot parses them.

  hunts.py dialects QUERY_DIR          parse every .sql for the trino, spark and duckdb dialects
  hunts.py duckdb EXPORT SQL_FILE      run one hunt on DuckDB over a Parquet export (file or
                                       day-partitioned directory); print normalised JSON
  hunts.py normalise < RESULT.json     normalise `blastradius query -f json` output the same way

Normalised JSON is {"columns": [...], "rows": [[...], ...]} with rows sorted (engines may order
NULLs differently) and timestamps as UTC microsecond ISO strings.
"""
import datetime
import decimal
import json
import pathlib
import re
import sys

TS = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")


def norm(v):
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return v.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(v, str) and TS.match(v):
        s = v.replace(" ", "T").replace("Z", "+00:00")
        frac = re.search(r"\.(\d+)", s)
        if frac and len(frac.group(1)) > 6:  # Python parses at most microseconds
            s = s.replace(frac.group(0), "." + frac.group(1)[:6])
        return norm(datetime.datetime.fromisoformat(s))
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, (list, tuple)):
        return [norm(x) for x in v]
    return v


def key(row):
    return json.dumps(row, sort_keys=True, default=str)


def normalised(columns, rows):
    """The normalised form of a result: column names and sorted, normalised rows."""
    rows = sorted(([norm(v) for v in r] for r in rows), key=key)
    return {"columns": list(columns), "rows": rows}


def emit(columns, rows):
    print(json.dumps(normalised(columns, rows), indent=1))


def dialects(query_dir):
    import sqlglot

    failures = 0
    files = sorted(pathlib.Path(query_dir).glob("*.sql"))
    if not files:
        sys.exit(f"no .sql files in {query_dir}")
    for f in files:
        sql = f.read_text()
        for dialect in ("trino", "spark", "duckdb"):
            try:
                parsed = sqlglot.parse(sql, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
                if len([p for p in parsed if p is not None]) != 1:
                    raise ValueError("expected exactly one statement")
            except Exception as e:  # noqa: BLE001 - report every failure
                failures += 1
                print(f"{f.name}: {dialect}: {e}", file=sys.stderr)
    print(f"{len(files)} queries parsed for trino, spark and duckdb; {failures} failures")
    sys.exit(1 if failures else 0)


def duckdb_connect(export):
    """A DuckDB connection with the export (file or day-partitioned directory) as `events`."""
    import duckdb

    p = pathlib.Path(export)
    source = str(p / "**" / "*.parquet") if p.is_dir() else str(p)
    con = duckdb.connect()
    quoted = "'" + source.replace("'", "''") + "'"
    con.execute(
        f"CREATE VIEW events AS SELECT * FROM read_parquet({quoted}, hive_partitioning = false)"
    )
    return con


def duckdb_result(con, sql):
    """The normalised result of `sql` on DuckDB."""
    cur = con.execute(sql)
    return normalised([d[0] for d in cur.description], cur.fetchall())


def duckdb_run(export, sql_file):
    result = duckdb_result(duckdb_connect(export), pathlib.Path(sql_file).read_text())
    print(json.dumps(result, indent=1))


def normalise():
    data = json.load(sys.stdin)
    if not data:
        sys.exit("empty result: cannot tell its columns")
    columns = list(data[0].keys())
    emit(columns, [[r[c] for c in columns] for r in data])


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "dialects":
        dialects(*args)
    elif cmd == "duckdb":
        duckdb_run(*args)
    elif cmd == "normalise":
        normalise()
    else:
        sys.exit(__doc__)
