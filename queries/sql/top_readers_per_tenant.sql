-- Who read each tenant's secrets, most reads first: the first question of a breach assessment.
SELECT
  tenant,
  client_token_accessor AS accessor,
  display_name,
  COUNT(*) AS reads,
  COUNT(DISTINCT path) AS secrets,
  MIN(time) AS first_read,
  MAX(time) AS last_read
FROM events
WHERE is_secret_read AND tenant IS NOT NULL
GROUP BY tenant, client_token_accessor, display_name
ORDER BY tenant, reads DESC, accessor, display_name
