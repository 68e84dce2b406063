-- What users wrote (Front, Slack) per hour, by symptom.
SELECT date_trunc('hour', ts) AS hour,
       coalesce(attrs['symptom'], 'other') AS symptom,
       count(*) AS reports,
       count(DISTINCT "user") AS users
FROM events
WHERE kind = 'report'
GROUP BY 1, 2
ORDER BY 1, 3 DESC;
