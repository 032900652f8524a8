#!/usr/bin/env python3
"""Apache Spark (local mode) over the partitioned Parquet export, in ONE session:

  spark.py SPEC.json

SPEC: {"export": DIR, "hunts": DIR, "breach_scope": SQL_FILE, "day": "YYYY-MM-DD",
       "blast": [{"name": N, "accessors": [...], "since": T|null, "until": T|null, "out": DIR}]}

1. every hunt in SPEC.hunts and the breach scope run unchanged on Spark and on DuckDB; their
   normalised row sets must be equal;
2. a query filtered on `dt` must show the partition filter in Spark's plan (and an unfiltered one
   must not), and give DuckDB's answer for that day;
3. each blast case runs queries/spark/blast_radius.py's job and writes its JSON output under
   `out`, which the Rust test compares with `blastradius blast`.

Prints a JSON summary; exits 1 on any disagreement.
"""
import glob
import json
import os
import pathlib
import re
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent / "queries" / "spark"))

import blast_radius  # noqa: E402
import hunts  # noqa: E402

# PySpark hands timestamps to Python in the process's local zone.
os.environ["TZ"] = "UTC"
time.tzset()


def session():
    from pyspark.sql import SparkSession

    # A shared 2-core machine: two local threads, two shuffle partitions, a small heap, no UI.
    return (
        SparkSession.builder.master("local[2]")
        .appName("blastradius-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .getOrCreate()
    )


def spark_result(spark, sql):
    df = spark.sql(sql)
    return hunts.normalised(df.columns, [list(r) for r in df.collect()])


def compare(name, ours, theirs, failures):
    if ours != theirs:
        failures.append({"query": name, "spark": ours, "duckdb": theirs})
    return len(ours["rows"])


def plan(spark, sql):
    return spark.sql(sql)._jdf.queryExecution().executedPlan().toString()


def check_pruning(spark, export, day, failures):
    """The date filter reaches the Parquet scan as a partition filter."""
    body = "SELECT tenant, COUNT(*) AS reads FROM events WHERE is_secret_read {} GROUP BY tenant"
    filtered = body.format(f"AND dt = '{day}'")
    pruned = re.search(r"PartitionFilters: \[[^\]]*\bdt\b[^\]]*\]", plan(spark, filtered))
    unpruned = re.search(r"PartitionFilters: \[[^\]]*\bdt\b", plan(spark, body.format("")))
    explain = spark.sql("EXPLAIN " + filtered).collect()[0][0]
    if not pruned or unpruned or "PartitionFilters" not in explain:
        failures.append({"pruning": explain})
    import duckdb

    con = duckdb.connect()
    con.execute(
        "CREATE VIEW events AS SELECT * FROM read_parquet("
        f"'{export}/**/*.parquet', hive_partitioning = true)"
    )
    ours = spark_result(spark, filtered)
    compare("dt-filtered", ours, hunts.duckdb_result(con, filtered), failures)
    return {"partition_filters": pruned.group(0) if pruned else None, "rows": len(ours["rows"])}


def run_blast(spark, events, case):
    tables, summary = blast_radius.blast(
        spark, events, case["accessors"], case.get("since"), case.get("until")
    )
    out = case["out"]
    blast_radius.write(tables, summary, out, "json")
    result = dict(summary)
    for name in tables:
        rows = []
        for f in sorted(glob.glob(f"{out}/{name}/part-*.json")):
            rows.extend(json.loads(line) for line in open(f))
        result[name] = rows
    with open(f"{out}/result.json", "w") as f:
        json.dump(result, f, indent=1)
    return {name: len(result[name]) for name in tables}


def main(spec_file):
    spec = json.loads(pathlib.Path(spec_file).read_text())
    export = spec["export"]
    started = time.monotonic()
    seconds = {}
    spark = session()
    seconds["session"] = round(time.monotonic() - started, 1)
    spark.sparkContext.setLogLevel("ERROR")
    events = blast_radius.read_events(spark, export)
    events.createOrReplaceTempView("events")
    con = hunts.duckdb_connect(export)
    failures, summary = [], {"spark": spark.version, "queries": {}}
    files = sorted(pathlib.Path(spec["hunts"]).glob("*.sql")) + [pathlib.Path(spec["breach_scope"])]
    for f in files:
        sql = f.read_text()
        summary["queries"][f.stem] = compare(f.stem, spark_result(spark, sql),
                                             hunts.duckdb_result(con, sql), failures)
    seconds["queries"] = round(time.monotonic() - started - sum(seconds.values()), 1)
    summary["pruning"] = check_pruning(spark, export, spec["day"], failures)
    summary["blast"] = {}
    for case in spec.get("blast", []):
        mark = time.monotonic()
        summary["blast"][case["name"]] = run_blast(spark, events, case)
        seconds["blast " + case["name"]] = round(time.monotonic() - mark, 1)
    spark.stop()
    seconds["total"] = round(time.monotonic() - started, 1)
    summary["seconds"] = seconds
    summary["failures"] = failures
    print(json.dumps(summary, indent=1, default=str))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main(*sys.argv[1:])
