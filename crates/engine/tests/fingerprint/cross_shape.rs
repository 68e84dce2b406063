//! The same exception, reported by Sentry (structured frames), by a Datadog log (`error.stack`)
//! and by a Scalyr log message (a timestamp line before the trace), gets one fingerprint.

use faultline_engine::fingerprint::{fingerprint, normalize_error_type, parse_trace};

use crate::common::{
    SentryPath, SentryValue, datadog_error_stack, keys, scalyr_message_containing,
    sentry_exception, text_fingerprint,
};

const PYTHON_EVENT: &str = "sentry/python_dashboard_event.json";
const JAVA_EVENT: &str = "sentry/java_payment_event.json";
const BROWSER_EVENT: &str = "sentry/javascript_button_event.json";
const NODE_EVENT: &str = "sentry/node_express_event.json";

#[test]
fn python_sentry_datadog_and_scalyr_agree() {
    let datadog = datadog_error_stack("dashboard-web");
    let scalyr = scalyr_message_containing("psycopg2.OperationalError");
    assert!(scalyr.starts_with("2024-05-01T12:03:44.512Z ERROR django.request"));
    let expected = text_fingerprint(&datadog);
    assert_eq!(
        text_fingerprint(&scalyr),
        expected,
        "Scalyr: other release, paths, Python 3.11"
    );
    for path in [SentryPath::AbsPath, SentryPath::Filename] {
        let (error_type, frames) = sentry_exception(PYTHON_EVENT, SentryValue::Last, path);
        assert_eq!(error_type, "OperationalError");
        assert_eq!(
            keys(&frames),
            [
                "dashboard:get",
                "dashboard:load_widgets",
                "registry:widgets_for",
                "pool:get_connection"
            ],
            "{path:?}"
        );
        assert_eq!(
            fingerprint(&error_type, &frames),
            expected,
            "Sentry, file from {path:?}"
        );
    }
}

#[test]
fn java_sentry_datadog_and_scalyr_agree() {
    let datadog = datadog_error_stack("checkout");
    let scalyr = scalyr_message_containing("SocketTimeoutException");
    let expected = text_fingerprint(&datadog);
    assert_eq!(
        text_fingerprint(&scalyr),
        expected,
        "Scalyr: Java 8, other lines, lambda and proxy numbers"
    );
    let (error_type, frames) =
        sentry_exception(JAVA_EVENT, SentryValue::First, SentryPath::AbsPath);
    assert_eq!(error_type, "SocketTimeoutException");
    assert_eq!(frames.len(), 35);
    let parsed = parse_trace(&datadog).unwrap();
    assert_eq!(keys(&frames), keys(&parsed.frames));
    assert_eq!(fingerprint(&error_type, &frames), expected);
}

#[test]
fn browser_javascript_sentry_datadog_and_scalyr_agree() {
    let datadog_bundle = datadog_error_stack("storefront");
    assert!(datadog_bundle.contains("main.3f2a1b9c.js"));
    let scalyr_dev_build = scalyr_message_containing("webpack:///./src/components/Button.js");
    let expected = text_fingerprint(&datadog_bundle);
    assert_eq!(text_fingerprint(&scalyr_dev_build), expected);
    for path in [SentryPath::AbsPath, SentryPath::Filename] {
        let (error_type, frames) = sentry_exception(BROWSER_EVENT, SentryValue::Last, path);
        assert_eq!(keys(&frames), ["handleClick", "submitOrder"], "{path:?}");
        assert_eq!(fingerprint(&error_type, &frames), expected, "{path:?}");
    }
}

#[test]
fn node_sentry_datadog_and_scalyr_agree() {
    let datadog = datadog_error_stack("orders-api");
    let scalyr = scalyr_message_containing("/usr/src/app/dist/orders/serialize.js");
    let expected = text_fingerprint(&datadog);
    assert_eq!(text_fingerprint(&scalyr), expected);
    let (error_type, frames) = sentry_exception(NODE_EVENT, SentryValue::Last, SentryPath::AbsPath);
    assert_eq!(fingerprint(&error_type, &frames), expected);
}

#[test]
fn parsed_in_app_flags_match_sentry_for_app_frames() {
    let (_, sentry_frames) = sentry_exception(PYTHON_EVENT, SentryValue::Last, SentryPath::AbsPath);
    let parsed = parse_trace(&datadog_error_stack("dashboard-web")).unwrap();
    let sentry_in_app: Vec<_> = sentry_frames.iter().map(|frame| frame.in_app).collect();
    let mut parsed_in_app: Vec<_> = parsed.frames.iter().map(|frame| frame.in_app).collect();
    parsed_in_app.insert(6, true); // Python 3.12 has no frame for the list comprehension
    assert_eq!(parsed_in_app, sentry_in_app);
}

#[test]
fn sentry_in_app_flag_alone_does_not_move_a_frame() {
    let (error_type, mut frames) =
        sentry_exception(PYTHON_EVENT, SentryValue::Last, SentryPath::AbsPath);
    let before = fingerprint(&error_type, &frames);
    for frame in &mut frames {
        frame.in_app = !frame.in_app;
    }
    assert_eq!(fingerprint(&error_type, &frames), before);
}

#[test]
fn error_types_agree_across_shapes() {
    let parsed = parse_trace(&datadog_error_stack("dashboard-web")).unwrap();
    let (sentry_type, _) = sentry_exception(PYTHON_EVENT, SentryValue::Last, SentryPath::AbsPath);
    assert_eq!(
        normalize_error_type(&parsed.error_type),
        normalize_error_type(&sentry_type)
    );
    let parsed = parse_trace(&datadog_error_stack("checkout")).unwrap();
    let (sentry_type, _) = sentry_exception(JAVA_EVENT, SentryValue::First, SentryPath::AbsPath);
    assert_eq!(
        normalize_error_type(&parsed.error_type),
        normalize_error_type(&sentry_type)
    );
}

#[test]
fn different_problems_get_different_fingerprints() {
    let python = text_fingerprint(&datadog_error_stack("dashboard-web"));
    let java = text_fingerprint(&datadog_error_stack("checkout"));
    let browser = text_fingerprint(&datadog_error_stack("storefront"));
    let node = text_fingerprint(&datadog_error_stack("orders-api"));
    let all = [python, java, browser, node];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }
}
