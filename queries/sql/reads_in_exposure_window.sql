-- Secrets read while a denied address was active (its first to last request): what may have leaked.
WITH suspects AS (
  SELECT DISTINCT remote_address
  FROM events
  WHERE error_kind = 'permission-denied' AND remote_address IS NOT NULL
),
exposure AS (
  SELECT MIN(events.time_epoch_ms) AS start_ms, MAX(events.time_epoch_ms) AS end_ms
  FROM events
  INNER JOIN suspects ON events.remote_address = suspects.remote_address
)
SELECT
  events.path,
  events.tenant,
  COUNT(*) AS reads,
  COUNT(DISTINCT events.client_token_accessor) AS readers,
  MIN(events.time) AS first_read,
  MAX(events.time) AS last_read
FROM events
CROSS JOIN exposure
WHERE events.is_secret_read
  AND events.time_epoch_ms BETWEEN exposure.start_ms AND exposure.end_ms
GROUP BY events.path, events.tenant
ORDER BY reads DESC, events.path
