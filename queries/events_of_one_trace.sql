-- Every event of one trace, in time order: here the trace with the most errors.
-- To look at another trace, replace the subquery with its id: WHERE trace_id = '1234'.
SELECT ts, source, kind, layer, service, level, status_code, duration_ms, message
FROM events
WHERE trace_id = (
    SELECT trace_id FROM events
    WHERE trace_id IS NOT NULL
    GROUP BY trace_id
    ORDER BY sum(CASE WHEN level IN ('error', 'fatal') THEN 1 ELSE 0 END) DESC, count(*) DESC, trace_id
    LIMIT 1
)
ORDER BY ts;
