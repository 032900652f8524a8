-- Tokens issued per creating token (logins have no parent): token sprawl and lineage fan-out.
SELECT
  client_token_accessor AS parent_accessor,
  COUNT(*) AS tokens_created,
  COUNT(DISTINCT path) AS via_paths,
  MIN(time) AS first_created,
  MAX(time) AS last_created
FROM events
WHERE type = 'response' AND created_accessor IS NOT NULL
GROUP BY client_token_accessor
ORDER BY tokens_created DESC, parent_accessor
