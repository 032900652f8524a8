-- Client addresses with denied requests, failed logins or bad tokens: probing and brute force.
SELECT
  remote_address,
  COUNT(*) AS failures,
  SUM(CASE WHEN error_kind = 'permission-denied' THEN 1 ELSE 0 END) AS denied,
  SUM(CASE WHEN error_kind = 'login-failed' THEN 1 ELSE 0 END) AS failed_logins,
  SUM(CASE WHEN error_kind = 'invalid-token' THEN 1 ELSE 0 END) AS invalid_tokens,
  COUNT(DISTINCT path) AS paths,
  MIN(time) AS first_seen,
  MAX(time) AS last_seen
FROM events
WHERE type = 'response'
  AND error_kind IN ('permission-denied', 'login-failed', 'invalid-token')
GROUP BY remote_address
ORDER BY failures DESC, remote_address
