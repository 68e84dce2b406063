-- Deploys and releases, newest first: what shipped just before things broke?
SELECT ts, source, service, release, message
FROM events
WHERE kind = 'deploy'
ORDER BY ts DESC
LIMIT 50;
