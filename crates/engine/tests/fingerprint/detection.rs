use faultline_engine::fingerprint::{Language, fingerprint_text, parse_trace};

use crate::common::{parse_fixture, trace_text};

/// Typical one-line log messages: none is a trace.
pub const LOG_LINES: [&str; 8] = [
    "2024-05-01T12:00:00.123Z INFO  [http-nio-8080-exec-1] c.a.w.RequestLogger - GET /api/orders/1842 200 12ms",
    "10.0.3.17 - - [01/May/2024:12:00:00 +0000] \"GET /health HTTP/1.1\" 200 2 \"-\" \"kube-probe/1.29\"",
    "level=error msg=\"failed to connect\" err=\"dial tcp 10.0.3.17:5432: connect: connection refused\" at=db.go:42",
    "{\"level\":\"warn\",\"ts\":1714564800.123,\"caller\":\"store/orders.go:88\",\"msg\":\"slow query\",\"duration\":\"1.2s\"}",
    "[2024-05-01 12:00:07,412: INFO/MainProcess] Task app.billing.tasks.sync_invoices[4f0e2c1a] succeeded in 0.41s: None",
    "Traceback (most recent call last): <truncated by log shipper>",
    "    at handleClick (webpack:///./src/components/Button.js:12:5)",
    "user 1842 logged in at 2024-05-01 12:00:00 from 10.0.7.21 using C:\\Users\\app\\bin",
];

#[test]
fn ordinary_log_lines_are_not_traces() {
    for line in LOG_LINES {
        assert_eq!(parse_trace(line), None, "{line}");
        assert_eq!(fingerprint_text(line), None, "{line}");
    }
}

#[test]
fn multi_line_messages_that_are_not_traces() {
    for text in [
        "Query took 3.2s:\n  SELECT * FROM orders\n  WHERE customer_id = 1842\n",
        "Scheduled maintenance\n    at 02:00 UTC tonight\n    at noon (UTC) tomorrow\n",
        "Deploy summary:\n  at least 3 pods restarted\n  goroutines: 812\n",
        "config:\n  File \"settings.yaml\" was reloaded\n",
        "",
        "\n\n\n",
    ] {
        assert_eq!(parse_trace(text), None, "{text:?}");
    }
}

#[test]
fn language_is_detected() {
    for (name, language) in [
        ("python_dashboard.txt", Language::Python),
        ("jvm_spring_payment.txt", Language::Jvm),
        ("jvm_kotlin_suppressed.txt", Language::Jvm),
        ("node_express.txt", Language::JavaScript),
        ("react_button_bundle.txt", Language::JavaScript),
        ("go_nethttp_panic.txt", Language::Go),
    ] {
        assert_eq!(parse_fixture(name).language, language, "{name}");
    }
}

#[test]
fn trace_in_the_middle_of_a_message() {
    let text = format!(
        "2024-05-01T12:03:44Z pod/web-5c8d9 stderr F request failed\n{}\n2024-05-01T12:03:45Z pod/web-5c8d9 stdout F next request\n",
        trace_text("python_dashboard.txt").trim_end()
    );
    let trace = parse_trace(&text).unwrap();
    assert_eq!(trace.error_type, "psycopg2.OperationalError");
    assert_eq!(trace.frames.len(), 9);
}

#[test]
fn logger_prefix_on_the_header_line() {
    let text = "2024-05-01 12:00:00,001 ERROR app.jobs Traceback (most recent call last):\n\
        \x20 File \"/srv/app/app/jobs.py\", line 10, in run\n\
        KeyError: 'x'\n";
    let trace = parse_trace(text).unwrap();
    assert_eq!(trace.error_type, "KeyError");
    assert_eq!(trace.frames.len(), 1);
}

#[test]
fn windows_line_endings() {
    let text = trace_text("jvm_spring_payment.txt").replace('\n', "\r\n");
    let trace = parse_trace(&text).unwrap();
    assert_eq!(trace.error_type, "java.net.SocketTimeoutException");
    assert_eq!(trace.frames.len(), 35);
    assert_eq!(trace.frames[34].file.as_deref(), Some("NioSocketImpl.java"));
}

#[test]
fn trace_flattened_into_one_line_with_escaped_newlines() {
    let original = trace_text("node_express.txt");
    let flattened = format!(
        "{{\"msg\":\"unhandled\",\"stack\":\"{}\"}}",
        original
            .trim_end()
            .replace('\n', "\\n")
            .replace('"', "\\\"")
    );
    assert!(!flattened.contains('\n'));
    let flat = fingerprint_text(&flattened).unwrap();
    let multi_line = fingerprint_text(&original).unwrap();
    assert_eq!(flat.1.frames.len(), 10);
    assert_eq!(flat.0, multi_line.0);
}

#[test]
fn the_first_trace_of_a_message_wins() {
    let text = format!(
        "{}\n{}",
        trace_text("go_index_panic.txt"),
        trace_text("node_express.txt")
    );
    assert_eq!(parse_trace(&text).unwrap().language, Language::Go);
}

#[test]
fn fingerprint_text_returns_the_parsed_trace() {
    let (fingerprint, trace) = fingerprint_text(&trace_text("python_dashboard.txt")).unwrap();
    assert_eq!(trace.frames.len(), 9);
    assert_eq!(
        fingerprint,
        faultline_engine::fingerprint::fingerprint(&trace.error_type, &trace.frames)
    );
    assert_eq!(fingerprint.to_string().len(), 16);
}
