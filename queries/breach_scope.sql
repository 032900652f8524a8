-- Affected tenants and the secrets read in a window: the breach scope of an incident, on the lake.
-- The window is [since, until) in epoch milliseconds: edit the two numbers in `params`. On a
-- partitioned lake also add the days the window covers, which every engine prunes on:
--   AND events.dt BETWEEN '2026-11-27' AND '2026-11-27'
WITH params AS (
  SELECT 0 AS since_ms, 9223372036854775807 AS until_ms
),
reads AS (
  SELECT events.tenant, events.secret, events.secret_kind, events.client_token_accessor,
    events.time
  FROM events
  CROSS JOIN params
  WHERE events.is_secret_read
    AND events.tenant IS NOT NULL
    AND events.secret_kind NOT IN ('kv-v1-list', 'kv-v2-list', 'kv-v2-subkeys')
    AND events.time_epoch_ms >= params.since_ms
    AND events.time_epoch_ms < params.until_ms
)
SELECT
  tenant,
  secret,
  secret_kind,
  COUNT(*) AS reads,
  COUNT(DISTINCT client_token_accessor) AS readers,
  MIN(time) AS first_read,
  MAX(time) AS last_read
FROM reads
GROUP BY tenant, secret, secret_kind
ORDER BY tenant, secret
