use faultline_engine::fingerprint::{Language, parse_trace};

use crate::common::{functions, in_app_functions, keys, parse_fixture};

#[test]
fn net_http_recovered_panic() {
    let trace = parse_fixture("go_nethttp_panic.txt");
    assert_eq!(trace.language, Language::Go);
    assert_eq!(trace.error_type, "runtime error");
    assert_eq!(
        trace.message,
        "runtime error: invalid memory address or nil pointer dereference"
    );
    assert_eq!(
        trace.frames.len(),
        12,
        "`created by` is not a frame of this stack"
    );
    let oldest = &trace.frames[0];
    assert_eq!(oldest.module.as_deref(), Some("net/http"));
    assert_eq!(oldest.function.as_deref(), Some("(*conn).serve"));
    assert_eq!(
        oldest.file.as_deref(),
        Some("/usr/local/go/src/net/http/server.go")
    );
    assert_eq!(oldest.line, Some(2039));
    let crash = &trace.frames[9];
    assert_eq!(
        crash.module.as_deref(),
        Some("github.com/acme/orders/internal/store")
    );
    assert_eq!(crash.function.as_deref(), Some("(*OrderStore).Get"));
    assert_eq!(crash.line, Some(88));
    assert_eq!(trace.frames[10].function.as_deref(), Some("panic"));
    assert!(
        !trace.frames[10].in_app,
        "runtime panic frame lives in GOROOT"
    );
    assert_eq!(
        trace.frames[11].function.as_deref(),
        Some("(*conn).serve.func1")
    );
    assert_eq!(
        in_app_functions(&trace.frames),
        [
            "(*Server).withRequestID.func1",
            "(*Server).getOrder",
            "(*OrderStore).Get"
        ]
    );
    assert_eq!(
        keys(&trace.frames),
        [
            "api:Server.withRequestID",
            "api:Server.getOrder",
            "store:OrderStore.Get"
        ]
    );
}

#[test]
fn runtime_panic_reads_only_the_panicking_goroutine() {
    let trace = parse_fixture("go_index_panic.txt");
    assert_eq!(trace.error_type, "runtime error");
    assert_eq!(
        trace.message,
        "runtime error: index out of range [5] with length 3"
    );
    assert_eq!(functions(&trace.frames), ["main", "route", "pickShard"]);
    assert_eq!(
        trace.frames[2].line,
        Some(61),
        "inlined frame without offset"
    );
    assert_eq!(
        keys(&trace.frames),
        ["main:main", "main:route", "main:pickShard"]
    );
}

#[test]
fn repanic_keeps_the_last_panic_and_drops_goroutine_wrappers() {
    let trace = parse_fixture("go_repanic_worker.txt");
    assert_eq!(trace.error_type, "panic");
    assert_eq!(trace.message, "job 1842: unexpected state \"archived\"");
    assert_eq!(trace.frames.len(), 5);
    assert_eq!(
        keys(&trace.frames),
        [
            "worker:Pool.Start",
            "worker:Pool.run",
            "worker:transition",
            "worker:Pool.run"
        ]
    );
}

#[test]
fn fatal_errors() {
    let text = "fatal error: concurrent map writes\n\n\
        goroutine 51 [running]:\n\
        github.com/acme/cache.(*Store).Set(...)\n\
        \t/app/cache/store.go:40 +0x65\n";
    let trace = parse_trace(text).unwrap();
    assert_eq!(trace.error_type, "fatal error");
    assert_eq!(trace.message, "concurrent map writes");
    assert_eq!(trace.frames.len(), 1);
    assert_eq!(
        trace.frames[0].module.as_deref(),
        Some("github.com/acme/cache")
    );
}

#[test]
fn error_strings_are_not_traces() {
    for line in [
        "dial tcp 10.0.3.17:5432: connect: connection refused",
        "2024/05/01 12:00:00 sync: fetch page 3: Get \"https://api.example.com/v1/items?page=3\": context deadline exceeded",
        "panic: nothing follows this line",
        "error: failed to start goroutine pool: too many workers\ncaused by: limit 64",
    ] {
        assert_eq!(parse_trace(line), None, "{line}");
    }
}
