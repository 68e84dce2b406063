-- Errors per layer per minute over the last hour of data: where did the errors start?
SELECT date_trunc('minute', ts) AS minute, layer, count(*) AS errors
FROM events
WHERE level IN ('error', 'fatal')
  AND ts >= (SELECT max(ts) FROM events) - INTERVAL '1 hour'
GROUP BY 1, 2
ORDER BY 1, 3 DESC;
