-- The most frequent message templates (or messages, before the engine fills templates)
-- in the last hour of data, with their layers.
SELECT coalesce(template, message) AS pattern,
       count(*) AS events,
       array_to_string(array_agg(DISTINCT layer), ',') AS layers
FROM events
WHERE ts >= (SELECT max(ts) FROM events) - INTERVAL '1 hour'
GROUP BY 1
ORDER BY 2 DESC
LIMIT 20;
