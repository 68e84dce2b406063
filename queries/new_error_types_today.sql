-- Error types first seen on the newest day of data: errors that "just started occurring".
SELECT error_type, min(ts) AS first_seen, count(*) AS events,
       array_to_string(array_agg(DISTINCT service), ',') AS services
FROM events
WHERE error_type IS NOT NULL
GROUP BY error_type
HAVING min(ts) >= date_trunc('day', (SELECT max(ts) FROM events))
ORDER BY first_seen;
