//! The store end to end on real files: append, SQL, search, flush, reopen, dedup, retention,
//! compaction, index rebuild, read-only SQL, and recovery after the process dies.

use std::path::Path;
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;
use faultline_model::{
    Event, Frame, Kind, Layer, Level, MICROS_PER_DAY, MICROS_PER_HOUR, Timestamp,
};
use faultline_store::{QueryError, SearchRequest, SqlLimits, Store, StoreConfig, StoreError};

fn config(dir: &Path) -> StoreConfig {
    let mut config = StoreConfig::new(dir);
    config.background = false;
    config.index_memory_bytes = 20 * 1024 * 1024;
    config
}

fn event(i: usize, ts: Timestamp) -> Event {
    Event {
        id: format!("test:{i}"),
        ts,
        source: "test".into(),
        kind: if i % 5 == 0 { Kind::Error } else { Kind::Log },
        layer: if i % 5 == 0 {
            Layer::Database
        } else {
            Layer::App
        },
        service: Some(format!("svc-{}", i % 3)),
        host: Some("web-1".into()),
        level: if i % 5 == 0 {
            Level::Error
        } else {
            Level::Info
        },
        message: if i % 5 == 0 {
            format!("connection refused to db-{}", i % 2)
        } else {
            format!("GET /items/{i} 200")
        },
        error_type: (i % 5 == 0).then(|| "OperationalError".to_string()),
        stack: if i % 5 == 0 {
            vec![Frame {
                module: Some("app.db".into()),
                function: Some("connect".into()),
                in_app: true,
                ..Frame::default()
            }]
        } else {
            Vec::new()
        },
        ..Event::default()
    }
}

fn events(range: std::ops::Range<usize>, ts: Timestamp) -> Vec<Event> {
    range
        .map(|i| event(i, ts.plus_micros(i as i64 * 1000)))
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn count(rt: &tokio::runtime::Runtime, store: &Store, query: &str) -> i64 {
    let result = rt.block_on(store.sql(query)).unwrap();
    let batch = &result.batches[0];
    batch.column(0).as_primitive::<Int64Type>().value(0)
}

fn search_until(store: &Store, request: &SearchRequest, expected: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let hits = store.search(request).unwrap().len();
        if hits >= expected || Instant::now() > deadline {
            return hits;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn appended_events_are_visible_to_sql_at_once_and_to_search_soon() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let store = Store::open(config(dir.path())).unwrap();
    let now = Timestamp::now();
    let report = store.append_blocking(events(0..100, now)).unwrap();
    assert_eq!(report.accepted, 100);
    assert_eq!(count(&rt, &store, "SELECT count(*) FROM events"), 100);
    assert_eq!(
        count(
            &rt,
            &store,
            "SELECT count(*) FROM events WHERE layer = 'database'"
        ),
        20
    );
    let request = SearchRequest {
        query: "refused".into(),
        limit: 50,
        ..SearchRequest::default()
    };
    assert_eq!(search_until(&store, &request, 20), 20);
    let hits = store.search(&request).unwrap();
    assert!(hits.windows(2).all(|w| w[0].ts >= w[1].ts), "newest first");
    assert!(hits.iter().all(|h| h.message.contains("refused")));
}

#[test]
fn duplicates_are_dropped_within_a_batch_and_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let now = Timestamp::now();
    {
        let store = Store::open(config(dir.path())).unwrap();
        let mut batch = events(0..50, now);
        batch.extend(events(0..10, now));
        let report = store.append_blocking(batch).unwrap();
        assert_eq!((report.accepted, report.duplicates), (50, 10));
        store.close().unwrap();
    }
    let store = Store::open(config(dir.path())).unwrap();
    let report = store.append_blocking(events(40..60, now)).unwrap();
    assert_eq!((report.accepted, report.duplicates), (10, 10));
    assert_eq!(count(&rt, &store, "SELECT count(*) FROM events"), 60);
    assert_eq!(
        count(&rt, &store, "SELECT count(DISTINCT id) FROM events"),
        60
    );
}

#[test]
fn old_history_is_deduplicated_by_when_it_was_stored_not_by_its_age() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.retention_age = None;
    let last_year = Timestamp::now().plus_micros(-400 * MICROS_PER_DAY);
    {
        let store = Store::open(config.clone()).unwrap();
        store.append_blocking(events(0..30, last_year)).unwrap();
        store.close().unwrap();
    }
    let store = Store::open(config).unwrap();
    let report = store.append_blocking(events(0..30, last_year)).unwrap();
    assert_eq!((report.accepted, report.duplicates), (0, 30));
}

#[test]
fn invalid_events_are_reported_by_position_and_the_rest_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    let mut batch = events(0..3, Timestamp::now());
    batch[1].id.clear();
    let report = store.append_blocking(batch).unwrap();
    assert_eq!(report.accepted, 2);
    assert_eq!(
        report.rejected,
        vec![(1, "missing required field `id`".to_string())]
    );
}

#[test]
fn flush_writes_hour_partitions_and_data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let base = Timestamp::now()
        .hour_start()
        .plus_micros(-3 * MICROS_PER_HOUR);
    {
        let store = Store::open(config(dir.path())).unwrap();
        for hour in 0..3 {
            let start = hour * 100;
            store
                .append_blocking(events(
                    start..start + 100,
                    base.plus_micros(hour as i64 * MICROS_PER_HOUR),
                ))
                .unwrap();
        }
        store.flush().unwrap();
        let stats = rt.block_on(store.stats()).unwrap();
        assert_eq!(stats.partitions, 3);
        assert_eq!(stats.parquet_events, 300);
        assert_eq!(stats.hot_events, 0);
        assert_eq!(stats.oldest_ts, Some(base));
    }
    let day = base.to_datetime().format("dt=%Y-%m-%d").to_string();
    assert!(dir.path().join("events").join(day).exists());
    let store = Store::open(config(dir.path())).unwrap();
    assert_eq!(count(&rt, &store, "SELECT count(*) FROM events"), 300);
    let since = base.plus_micros(MICROS_PER_HOUR).to_rfc3339();
    let query = format!("SELECT count(*) FROM events WHERE ts >= '{since}'");
    assert_eq!(count(&rt, &store, &query), 200);
    let wal_segments = std::fs::read_dir(dir.path().join("wal")).unwrap().count();
    assert_eq!(wal_segments, 1, "flushed WAL segments are deleted");
}

#[test]
fn sql_is_read_only_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let store = Store::open(config(dir.path())).unwrap();
    let refused = [
        "DROP TABLE events",
        "INSERT INTO events (id) VALUES ('x')",
        "COPY (SELECT 1) TO '/tmp/faultline-copy-test.csv'",
        "CREATE EXTERNAL TABLE x (a INT) STORED AS CSV LOCATION '/etc/passwd'",
        "CREATE TABLE y AS SELECT 1",
        "SET datafusion.execution.batch_size = 1",
    ];
    for query in refused {
        let err = rt.block_on(store.sql(query)).unwrap_err();
        assert!(
            matches!(err, StoreError::Query(QueryError::NotReadOnly(_))),
            "{query}: {err}"
        );
        assert!(err.to_string().contains("read-only"), "{err}");
    }
    let err = rt
        .block_on(store.sql("SELECT * FROM '/etc/passwd'"))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Query(QueryError::Invalid(_))),
        "{err}"
    );
    let err = rt.block_on(store.sql("SELEC nonsense")).unwrap_err();
    assert!(
        matches!(err, StoreError::Query(QueryError::Invalid(_))),
        "{err}"
    );
    assert!(!Path::new("/tmp/faultline-copy-test.csv").exists());
}

#[test]
fn sql_applies_row_limit_and_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let store = Store::open(config(dir.path())).unwrap();
    store
        .append_blocking(events(0..500, Timestamp::now()))
        .unwrap();
    let limits = SqlLimits {
        timeout: Duration::from_secs(30),
        max_rows: 123,
    };
    let result = rt
        .block_on(store.sql_with_limits("SELECT id FROM events", limits))
        .unwrap();
    assert_eq!(result.num_rows(), 123);
    assert!(result.truncated);
    let exact = rt
        .block_on(store.sql_with_limits("SELECT id FROM events LIMIT 100", limits))
        .unwrap();
    assert!(!exact.truncated);
    let slow = SqlLimits {
        timeout: Duration::from_millis(100),
        max_rows: 10,
    };
    let err = rt
        .block_on(store.sql_with_limits(
            "SELECT count(*) FROM generate_series(1, 10000000000) a",
            slow,
        ))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Query(QueryError::Timeout(_))),
        "{err}"
    );
}

#[test]
fn retention_drops_old_partitions_from_sql_and_search() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut config = config(dir.path());
    config.retention_age = Some(Duration::from_secs(7 * 24 * 3600));
    let store = Store::open(config).unwrap();
    let now = Timestamp::now();
    store
        .append_blocking(events(0..50, now.plus_micros(-10 * MICROS_PER_DAY)))
        .unwrap();
    store
        .append_blocking(events(50..100, now.plus_micros(-MICROS_PER_HOUR)))
        .unwrap();
    store.flush().unwrap();
    assert_eq!(store.apply_retention().unwrap(), 1);
    assert_eq!(count(&rt, &store, "SELECT count(*) FROM events"), 50);
    let all = SearchRequest {
        query: String::new(),
        limit: 1000,
        ..SearchRequest::default()
    };
    assert_eq!(store.search(&all).unwrap().len(), 50);
}

#[test]
fn retention_by_size_drops_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut config = config(dir.path());
    config.retention_bytes = Some(1);
    let store = Store::open(config).unwrap();
    let now = Timestamp::now();
    store
        .append_blocking(events(0..50, now.plus_micros(-3 * MICROS_PER_HOUR)))
        .unwrap();
    store
        .append_blocking(events(50..100, now.plus_micros(-2 * MICROS_PER_HOUR)))
        .unwrap();
    store.append_blocking(events(100..150, now)).unwrap();
    store.flush().unwrap();
    assert_eq!(
        store.apply_retention().unwrap(),
        2,
        "all but the current hour"
    );
    assert_eq!(count(&rt, &store, "SELECT count(*) FROM events"), 50);
}

#[test]
fn compaction_merges_small_files_of_an_hour() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut config = config(dir.path());
    config.compact_min_files = 2;
    let now = Timestamp::now().hour_start();
    {
        let store = Store::open(config.clone()).unwrap();
        for round in 0..4 {
            store
                .append_blocking(events(round * 10..round * 10 + 10, now))
                .unwrap();
            store.flush().unwrap();
        }
        assert_eq!(rt.block_on(store.stats()).unwrap().parquet_files, 4);
        assert_eq!(store.compact().unwrap(), 1);
        let stats = rt.block_on(store.stats()).unwrap();
        assert_eq!((stats.parquet_files, stats.parquet_events), (1, 40));
    }
    let store = Store::open(config).unwrap();
    assert_eq!(
        count(&rt, &store, "SELECT count(DISTINCT id) FROM events"),
        40
    );
    let report = store.append_blocking(events(0..40, now)).unwrap();
    assert_eq!(report.duplicates, 40, "compacted ids still deduplicate");
}

#[test]
fn a_missing_or_corrupt_index_is_rebuilt_from_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let request = SearchRequest {
        query: "refused".into(),
        limit: 100,
        ..SearchRequest::default()
    };
    {
        let store = Store::open(config(dir.path())).unwrap();
        store
            .append_blocking(events(0..100, Timestamp::now()))
            .unwrap();
        store.close().unwrap();
    }
    std::fs::remove_dir_all(dir.path().join("index")).unwrap();
    {
        let store = Store::open(config(dir.path())).unwrap();
        assert_eq!(search_until(&store, &request, 20), 20);
    }
    std::fs::write(dir.path().join("index").join("meta.json"), b"{ not json").unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    assert_eq!(search_until(&store, &request, 20), 20);
}

#[test]
fn search_filters_by_time_layer_service_and_kind() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    let now = Timestamp::now();
    store
        .append_blocking(events(0..100, now.plus_micros(-2 * MICROS_PER_HOUR)))
        .unwrap();
    store.append_blocking(events(100..200, now)).unwrap();
    store.commit_index().unwrap();
    let recent = SearchRequest {
        query: "refused".into(),
        since: Some(now.plus_micros(-MICROS_PER_HOUR)),
        limit: 1000,
        ..SearchRequest::default()
    };
    assert_eq!(store.search(&recent).unwrap().len(), 20);
    let layer = SearchRequest {
        layer: Some("app".into()),
        ..recent.clone()
    };
    assert_eq!(store.search(&layer).unwrap().len(), 0);
    let service = SearchRequest {
        query: "".into(),
        service: Some("svc-1".into()),
        kind: Some("error".into()),
        ..recent.clone()
    };
    let hits = store.search(&service).unwrap();
    assert!(!hits.is_empty());
    assert!(
        hits.iter()
            .all(|h| h.service.as_deref() == Some("svc-1") && h.kind == "error")
    );
    let bad = SearchRequest {
        query: "message:(unclosed".into(),
        ..recent
    };
    let err = store.search(&bad).unwrap_err();
    assert!(
        matches!(err, StoreError::Query(QueryError::Invalid(_))),
        "{err}"
    );
}

#[test]
fn a_second_process_cannot_open_the_same_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let _store = Store::open(config(dir.path())).unwrap();
    let err = Store::open(config(dir.path())).err().unwrap();
    assert!(matches!(err, StoreError::Locked(_)), "{err}");
}

/// Run by `acknowledged_events_survive_an_abort` in a child process.
#[test]
fn child_appends_then_aborts() {
    let Ok(dir) = std::env::var("FAULTLINE_STORE_ABORT_CHILD") else {
        return;
    };
    let store = Store::open(config(Path::new(&dir))).unwrap();
    let now = Timestamp::now();
    for round in 0..5 {
        store
            .append_blocking(events(round * 100..round * 100 + 100, now))
            .unwrap();
        if round == 2 {
            store.flush().unwrap();
        }
    }
    std::process::abort();
}

#[test]
fn acknowledged_events_survive_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_appends_then_aborts", "--nocapture"])
        .env("FAULTLINE_STORE_ABORT_CHILD", dir.path())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must die by abort");
    let rt = runtime();
    let store = Store::open(config(dir.path())).unwrap();
    assert_eq!(count(&rt, &store, "SELECT count(*) FROM events"), 500);
    assert_eq!(
        count(&rt, &store, "SELECT count(DISTINCT id) FROM events"),
        500
    );
    let request = SearchRequest {
        query: "refused".into(),
        limit: 1000,
        ..SearchRequest::default()
    };
    assert_eq!(search_until(&store, &request, 100), 100);
}

#[test]
fn timestamps_and_nulls_round_trip_through_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let store = Store::open(config(dir.path())).unwrap();
    let ts = Timestamp::parse_rfc3339("2026-11-24T14:02:10.123456Z").unwrap();
    let mut one = event(5, ts);
    one.received_at = Some(ts);
    one.attrs.insert("http.method".into(), "GET".into());
    store.append_blocking(vec![one]).unwrap();
    store.flush().unwrap();
    let result =
        rt.block_on(store.sql(
            "SELECT id, ts, error_type, attrs['http.method'] AS method, trace_id FROM events",
        ))
        .unwrap();
    let batch = &result.batches[0];
    assert_eq!(batch.column(0).as_string::<i32>().value(0), "test:5");
    let got = batch
        .column(1)
        .as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
        .value(0);
    assert_eq!(got, ts.as_micros());
    assert_eq!(
        arrow::compute::cast(batch.column(3), &arrow::datatypes::DataType::Utf8)
            .unwrap()
            .as_string::<i32>()
            .value(0),
        "GET"
    );
    assert!(batch.column(4).is_null(0));
}
