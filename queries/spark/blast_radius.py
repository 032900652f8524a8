#!/usr/bin/env python3
"""The blast radius of compromised accessors across a lake of `events` (blastradius export).

Token lineage to a fixed point by repeated joins: the pivot accessors are generation 0; each
round joins the newest generation with the creation edges (`creator_accessor` ->
`created_accessor`) and keeps the children not seen before, until a round adds nobody. Then
everything the lineage read, the leases it was issued, and the rotation plan, in the order of
`blastradius rotation-list` (tier, first exposure, action, target).

  spark-submit queries/spark/blast_radius.py --events s3://audit-lake/events/ \\
      --accessor hmac-sha256:6f78... --since 2026-11-27T00:00:00Z --until 2026-11-28T00:00:00Z \\
      --out s3://audit-lake/blast/incident-42/ [--format parquet|json]

Writes `lineage/`, `secrets/`, `leases/`, `rotation/` (one directory per table, as Spark does)
and `summary.json` (affected tenants, unmatched pivots) when --out is a local path.
Accessors are HMACs of one audit device: pass the HMACs of the device the `device` column
names (`sys/audit-hash/<device>`), or clear accessors for devices with `hmac_accessor=false`.
"""
import argparse
import datetime
import json
import re

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window

# The built-in tier rules of blastradius (src/blast/rotation.rs), tried in order, case-insensitive.
TIER_RULES = [
    (r"(^|/)database/(config|rotate-root)(/|$)", 1, "database root or connection configuration"),
    (r"(^|/)(aws|gcp|azure|alicloud)/(config|root)(/|$)", 1, "cloud IAM root configuration"),
    (r"(^|/)pki[^/]*/(root|intermediate|issuer|config/ca|keys?)(/|$)", 1, "PKI CA material"),
    (r"(^|/)transit[^/]*/(decrypt|datakey|export|keys)/", 1, "transit key material"),
    (r"^sys/(raw|generate-root|rekey|rotate)", 1, "unseal or root material"),
    (
        r"(^|/)(root|admin|master)[-_]?(pass(word)?|creds?|credentials?|keys?|tokens?)(/|$)",
        1,
        "administrative credential",
    ),
    (r"(unseal|recovery)[-_]?keys?", 1, "unseal or recovery keys"),
    (
        r"(smtp|mail|dkim|webhooks?|slack|stripe|twilio|sendgrid|mailgun|github|gitlab|pagerduty"
        r"|datadog|third[-_]?party|integrations?|partners?)",
        3,
        "third-party integration credential",
    ),
    (r"(^|/)(users?|people|humans?|personal|employees?|staff)/", 4, "human credential"),
]
KEY_KINDS = {"raw-storage", "transit-decrypt", "transit-datakey", "transit-export"}
LISTING_KINDS = ["kv-v1-list", "kv-v2-list", "kv-v2-subkeys"]
HUMAN_MOUNTS = ["userpass", "ldap", "oidc", "okta", "radius", "github", "saml"]
# Actions in the order blastradius sorts them within a tier and instant.
ACTIONS = ["rotate-secret", "revoke-lease", "revoke-token", "rotate-auth-credential"]
MAX_GENERATIONS = 64


def tier_of(path, kind):
    for pattern, tier, _ in TIER_RULES:
        if re.search(pattern, path or "", re.IGNORECASE):
            return tier
    if kind in KEY_KINDS:
        return 1
    if kind == "totp-code":
        return 4
    return 2


def window_rows(events: DataFrame, since, until) -> DataFrame:
    """The entries in [since, until), with a predicate on `dt` so the engine prunes days."""
    ev = events
    if since:
        ev = ev.where(F.col("time") >= F.to_timestamp(F.lit(since)))
        ev = ev.where(F.col("dt") >= F.lit(since[:10]))
    if until:
        ev = ev.where(F.col("time") < F.to_timestamp(F.lit(until)))
        ev = ev.where(F.col("dt") <= F.lit(until[:10]))
    return ev


def qualified(col_ns="namespace", col_path="path"):
    return F.when(F.col(col_ns).isNull(), F.col(col_path)).otherwise(
        F.concat_ws("/", F.col(col_ns), F.col(col_path))
    )


def creations(ev: DataFrame) -> DataFrame:
    """Each token's earliest successful creation: the lineage edge and how it came to be."""
    made = ev.where(
        (F.col("type") == "response")
        & F.col("created_accessor").isNotNull()
        & F.col("error_kind").isNull()
    )
    first = Window.partitionBy("created_accessor").orderBy("time", "source_file", "source_offset")
    return (
        made.withColumn("n", F.row_number().over(first))
        .where(F.col("n") == 1)
        .select(
            F.col("created_accessor").alias("accessor"),
            F.col("creator_accessor").alias("parent"),
            F.col("time").alias("created_at"),
            F.col("path").alias("created_by"),
            F.col("remote_address").alias("created_from"),
            F.col("created_role").alias("role"),
            F.col("created_user").alias("user"),
            F.coalesce(
                F.col("mount_point"), F.regexp_extract("path", r"^(auth/[^/]+/)", 1)
            ).alias("login_mount"),
            (
                F.col("path").rlike(r"^auth/(?!token/)[^/]+/(.*/)?login(/|$)")
                | F.col("path").rlike(r"^auth/(?!token/).*callback$")
            ).alias("is_login"),
        )
    )


def lineage(spark: SparkSession, ev: DataFrame, accessors) -> (DataFrame, list):
    """Pivots and their descendants to a fixed point, with the generation of each."""
    known = (
        ev.select(F.col("client_token_accessor").alias("accessor"))
        .union(ev.select(F.col("created_accessor").alias("accessor")))
        .where(F.col("accessor").isNotNull())
        .distinct()
    )
    pivots = spark.createDataFrame([(a,) for a in accessors], "accessor string")
    seeds = pivots.join(known, "accessor").distinct()
    found = {r.accessor for r in seeds.collect()}
    unmatched = [f"--accessor {a}" for a in accessors if a not in found]
    edges = (
        creations(ev)
        .where(F.col("parent").isNotNull())
        .select("parent", "accessor")
        .cache()
    )
    tree = seeds.withColumn("depth", F.lit(0))
    frontier = tree
    for depth in range(1, MAX_GENERATIONS + 1):
        children = (
            frontier.select(F.col("accessor").alias("parent"))
            .join(edges, "parent")
            .select("accessor")
            .distinct()
            .join(tree.select("accessor"), "accessor", "left_anti")
            .withColumn("depth", F.lit(depth))
            .localCheckpoint()
        )
        if children.isEmpty():
            break
        tree = tree.union(children).localCheckpoint()
        frontier = children
    edges.unpersist()
    return tree, unmatched


def logical(ev: DataFrame) -> DataFrame:
    """One row per request, as blastradius counts them: the response, else the lone request."""
    responses = ev.where(F.col("type") == "response")
    lone = ev.where(F.col("type") == "request").join(
        responses.select("request_id"), "request_id", "left_anti"
    )
    return responses.unionByName(lone)


def token_facts(ev: DataFrame) -> DataFrame:
    """What each token's own requests say about it (the caller columns are the token's)."""
    return logical(ev).groupBy(F.col("client_token_accessor").alias("accessor")).agg(
        F.min("time").alias("first_use"),
        F.max("time").alias("last_use"),
        F.first("display_name", ignorenulls=True).alias("display_name"),
        F.first("policies", ignorenulls=True).alias("policies"),
    )


def blast(spark: SparkSession, events: DataFrame, accessors, since=None, until=None):
    """The blast radius as DataFrames, plus the affected tenants and unmatched pivots."""
    ev = window_rows(events, since, until).cache()
    tree, unmatched = lineage(spark, ev, accessors)
    made = creations(ev)
    tokens = (
        tree.join(made, "accessor", "left")
        .join(token_facts(ev), "accessor", "left")
        .withColumn("relation", F.when(F.col("depth") == 0, "pivot").otherwise("descendant"))
        .cache()
    )
    lineage_out = tokens.select(
        "accessor", "relation", "depth", "parent", "created_at", "created_by",
        "created_from", "role", "user", "display_name", "first_use", "last_use",
    )
    members = tree.select(F.col("accessor").alias("client_token_accessor"))
    responses = ev.where(F.col("type") == "response").join(members, "client_token_accessor")
    secrets = (
        responses.where(F.col("is_secret_read"))
        .withColumn("qpath", qualified())
        .groupBy("qpath")
        .agg(
            F.first("secret", ignorenulls=True).alias("secret"),
            F.first("secret_kind", ignorenulls=True).alias("kind"),
            F.first("tenant", ignorenulls=True).alias("tenant"),
            F.count(F.lit(1)).alias("reads"),
            F.min("time").alias("first_read"),
            F.max("time").alias("last_read"),
            F.array_sort(F.collect_set("client_token_accessor")).alias("tokens"),
        )
        .withColumnRenamed("qpath", "path")
        .cache()
    )
    first_lease = Window.partitionBy("lease_id").orderBy("time", "source_file", "source_offset")
    leases = (
        responses.where(F.col("lease_id").isNotNull() & F.col("error_kind").isNull())
        .withColumn("n", F.row_number().over(first_lease))
        .where(F.col("n") == 1)
        .select(
            "lease_id",
            qualified().alias("path"),
            F.col("secret_kind").alias("kind"),
            "tenant",
            F.col("time").alias("issued_at"),
            F.col("client_token_accessor").alias("token"),
        )
        .cache()
    )
    affected = sorted(
        r.tenant
        for r in secrets.where(F.col("tenant").isNotNull() & ~F.col("kind").isin(LISTING_KINDS))
        .select("tenant")
        .distinct()
        .collect()
    )
    rotation = rotation_targets(spark, tokens, secrets, leases)
    ev.unpersist()
    return {
        "lineage": lineage_out,
        "secrets": secrets,
        "leases": leases,
        "rotation": rotation,
    }, {"affected_tenants": affected, "unmatched": unmatched}


def rotation_targets(spark, tokens, secrets, leases) -> DataFrame:
    """The rotation plan: few rows (one per secret, lease and token), so it is built on the driver."""
    drafts = []
    leased = {r.path for r in leases.select("path").collect()}
    for s in secrets.collect():
        if s.kind is None or s.kind in LISTING_KINDS or s.path in leased:
            continue
        drafts.append((tier_of(s.path, s.kind), s.kind, s.secret, "rotate-secret", s.tenant, s.first_read))
    for lease in leases.collect():
        drafts.append((tier_of(lease.path, lease.kind), "lease", lease.lease_id, "revoke-lease",
                       lease.tenant, lease.issued_at))
    for t in tokens.collect():
        tier = token_tier(t)
        drafts.append((tier, "token", t.accessor, "revoke-token", None, t.created_at or t.first_use))
        credential = auth_credential(t)
        if credential:
            drafts.append((tier, credential[0], credential[1], "rotate-auth-credential", None, t.created_at))
    never = datetime.datetime.min
    drafts.sort(key=lambda d: (d[0], d[5] is None, d[5] or never, ACTIONS.index(d[3]), d[2]))
    plan, seen = [], set()
    for d in drafts:
        if (d[3], d[2]) in seen:
            continue
        seen.add((d[3], d[2]))
        plan.append((len(plan) + 1,) + d)
    schema = ("order int, tier int, kind string, target string, action string, tenant string, "
              "first_exposure timestamp")
    return spark.createDataFrame(plan, schema)


def token_tier(t):
    if t.policies and "root" in t.policies:
        return 1
    mount = t.login_mount if t.is_login else ""
    display = t.display_name or ""
    if any(h in (mount or "") for h in HUMAN_MOUNTS) or any(display.startswith(h) for h in HUMAN_MOUNTS):
        return 4
    return 2


def auth_credential(t):
    """The login credential is suspect when its token is a pivot (blastradius' rule)."""
    if not t.is_login or t.relation != "pivot" or not t.login_mount:
        return None
    mount = t.login_mount.rstrip("/")
    if t.role and "approle" in mount:
        return ("approle-secret-id", f"{mount}/role/{t.role}")
    if t.user and "userpass" in mount:
        return ("user-password", f"{mount}/users/{t.user}")
    who = t.user or t.role
    return ("login-credential", f"{mount}: {who}") if who else None


def read_events(spark: SparkSession, path: str) -> DataFrame:
    # `dt` stays a string (as in the Trino/Athena table) so `dt BETWEEN '...'` prunes everywhere.
    spark.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    return spark.read.option("basePath", path).parquet(path)


def write(tables, summary, out, fmt):
    for name, df in tables.items():
        w = df.coalesce(1).write.mode("overwrite").format(fmt)
        if fmt == "json":
            # Spark's JSON default keeps milliseconds; the log's order needs microseconds.
            w = w.option("timestampFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")
        w.save(f"{out}/{name}")
    if "://" not in out:
        with open(f"{out}/summary.json", "w") as f:
            json.dump(summary, f, indent=1)
    else:
        print(json.dumps(summary))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", required=True, help="the export's root (dt=YYYY-MM-DD/ below)")
    p.add_argument("--accessor", action="append", required=True, help="a pivot accessor (repeat)")
    p.add_argument("--since", help="inclusive start, RFC 3339 UTC (2026-11-27T00:00:00Z)")
    p.add_argument("--until", help="exclusive end, RFC 3339 UTC")
    p.add_argument("--out", required=True)
    p.add_argument("--format", choices=["parquet", "json"], default="parquet")
    a = p.parse_args()
    spark = SparkSession.builder.appName("blastradius-blast").getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    tables, summary = blast(spark, read_events(spark, a.events), a.accessor, a.since, a.until)
    write(tables, summary, a.out, a.format)
    spark.stop()


if __name__ == "__main__":
    main()
