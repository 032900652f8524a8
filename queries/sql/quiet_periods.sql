-- Quiet periods over five minutes on the union timeline: audit gaps worth explaining.
WITH ordered AS (
  SELECT
    time_epoch_ms,
    LAG(time_epoch_ms) OVER (ORDER BY time_epoch_ms) AS previous_ms
  FROM events
  WHERE time_epoch_ms IS NOT NULL
)
SELECT
  previous_ms AS quiet_from_ms,
  time_epoch_ms AS quiet_until_ms,
  time_epoch_ms - previous_ms AS quiet_ms
FROM ordered
WHERE time_epoch_ms - previous_ms > 300000
ORDER BY quiet_from_ms
