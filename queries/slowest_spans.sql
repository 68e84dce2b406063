-- The slowest spans of the last hour of data, per service and operation.
SELECT service, message AS operation,
       count(*) AS spans,
       round(approx_percentile_cont(duration_ms, 0.5), 1) AS p50_ms,
       round(approx_percentile_cont(duration_ms, 0.95), 1) AS p95_ms,
       max(duration_ms) AS max_ms
FROM events
WHERE kind = 'span' AND duration_ms IS NOT NULL
  AND ts >= (SELECT max(ts) FROM events) - INTERVAL '1 hour'
GROUP BY 1, 2
ORDER BY p95_ms DESC
LIMIT 20;
