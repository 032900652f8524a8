-- Addresses an identity used after its first activity in the log: stolen credentials in use elsewhere.
WITH seen AS (
  SELECT
    entity_id,
    remote_address,
    MIN(time_epoch_ms) AS first_ms,
    COUNT(*) AS requests
  FROM events
  WHERE type = 'response' AND entity_id IS NOT NULL AND remote_address IS NOT NULL
  GROUP BY entity_id, remote_address
),
entity_start AS (
  SELECT entity_id, MIN(first_ms) AS start_ms
  FROM seen
  GROUP BY entity_id
)
SELECT
  seen.entity_id,
  seen.remote_address,
  seen.first_ms AS first_seen_ms,
  seen.first_ms - entity_start.start_ms AS ms_after_entity_start,
  seen.requests
FROM seen
INNER JOIN entity_start ON seen.entity_id = entity_start.entity_id
WHERE seen.first_ms > entity_start.start_ms
ORDER BY seen.first_ms, seen.entity_id, seen.remote_address
