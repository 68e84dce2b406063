use faultline_engine::fingerprint::{Language, fingerprint, parse_trace};

use crate::common::{functions, in_app_functions, keys, parse_fixture};

#[test]
fn django_view_with_psycopg2_error() {
    let trace = parse_fixture("python_dashboard.txt");
    assert_eq!(trace.language, Language::Python);
    assert_eq!(trace.error_type, "psycopg2.OperationalError");
    assert_eq!(
        trace.message,
        "could not connect to server: Connection refused\n\
         \tIs the server running on host \"db.internal\" (10.0.3.17) and accepting\n\
         \tTCP/IP connections on port 5432?"
    );
    assert_eq!(trace.frames.len(), 9);
    assert_eq!(
        functions(&trace.frames),
        [
            "inner",
            "_get_response",
            "view",
            "dispatch",
            "get",
            "load_widgets",
            "widgets_for",
            "get_connection",
            "connect"
        ]
    );
    let first = &trace.frames[0];
    assert_eq!(
        first.file.as_deref(),
        Some("/usr/local/lib/python3.12/site-packages/django/core/handlers/exception.py")
    );
    assert_eq!(first.line, Some(55));
    assert!(!first.in_app);
    assert_eq!(
        trace.frames[4].file.as_deref(),
        Some("/srv/app/app/views/dashboard.py")
    );
    assert_eq!(trace.frames[4].line, Some(88));
    assert_eq!(
        in_app_functions(&trace.frames),
        ["get", "load_widgets", "widgets_for", "get_connection"]
    );
    assert_eq!(
        keys(&trace.frames),
        [
            "dashboard:get",
            "dashboard:load_widgets",
            "registry:widgets_for",
            "pool:get_connection"
        ]
    );
}

#[test]
fn chained_django_error_keeps_the_exception_that_escaped() {
    let trace = parse_fixture("python_django_chained.txt");
    assert_eq!(trace.error_type, "django.db.utils.OperationalError");
    assert!(
        trace
            .message
            .ends_with("FATAL:  sorry, too many clients already")
    );
    assert_eq!(trace.frames.len(), 11);
    assert_eq!(trace.frames[0].function.as_deref(), Some("inner"));
    assert_eq!(trace.frames[10].function.as_deref(), Some("connect"));
    assert_eq!(
        in_app_functions(&trace.frames),
        ["list_invoices", "<listcomp>"]
    );
    assert_eq!(
        keys(&trace.frames),
        ["invoices:list_invoices"],
        "the comprehension frame is generated"
    );
}

#[test]
fn celery_task_with_a_handled_error_chain() {
    let trace = parse_fixture("python_celery_task.txt");
    assert_eq!(trace.error_type, "app.billing.errors.InvalidPayload");
    assert_eq!(trace.message, "row 1842 has no customer_id");
    assert_eq!(
        functions(&trace.frames),
        ["trace_task", "__protected_call__", "sync_invoices"]
    );
    assert_eq!(in_app_functions(&trace.frames), ["sync_invoices"]);
    assert_eq!(trace.frames[2].line, Some(68));
}

#[test]
fn logger_prefix_and_comprehension_frames() {
    let trace = parse_fixture("python_dashboard_py311_other_release.txt");
    assert_eq!(trace.error_type, "psycopg2.OperationalError");
    assert_eq!(trace.frames.len(), 10);
    assert_eq!(trace.frames[6].function.as_deref(), Some("<listcomp>"));
    assert!(trace.frames[6].in_app);
}

#[test]
fn lambdas_and_generator_expressions_do_not_count() {
    let with_lambda = "Traceback (most recent call last):\n\
        \x20 File \"/srv/worker/app/jobs.py\", line 10, in run\n\
        \x20 File \"/srv/worker/app/jobs.py\", line 11, in <lambda>\n\
        \x20 File \"/srv/worker/app/jobs.py\", line 12, in <genexpr>\n\
        \x20 File \"/srv/worker/app/parse.py\", line 3, in parse_row\n\
        ValueError: bad row\n";
    let plain = "Traceback (most recent call last):\n\
        \x20 File \"/srv/worker/app/jobs.py\", line 10, in run\n\
        \x20 File \"/srv/worker/app/parse.py\", line 3, in parse_row\n\
        ValueError: bad row\n";
    let lambda_trace = parse_trace(with_lambda).unwrap();
    let plain_trace = parse_trace(plain).unwrap();
    assert_eq!(lambda_trace.frames.len(), 4);
    assert_eq!(
        fingerprint(&lambda_trace.error_type, &lambda_trace.frames),
        fingerprint(&plain_trace.error_type, &plain_trace.frames)
    );
}

#[test]
fn bare_exception_without_message_and_recursion_notes() {
    let text = "Traceback (most recent call last):\n\
        \x20 File \"/srv/app/tree.py\", line 4, in walk\n\
        \x20   return walk(node.left)\n\
        \x20 [Previous line repeated 996 more times]\n\
        RecursionError\n";
    let trace = parse_trace(text).unwrap();
    assert_eq!(trace.error_type, "RecursionError");
    assert_eq!(trace.message, "");
    assert_eq!(trace.frames.len(), 1);
}

#[test]
fn truncated_traceback_still_yields_frames() {
    let text = "worker died\nTraceback (most recent call last):\n\
        \x20 File \"/srv/app/app/jobs.py\", line 10, in run\n\
        \x20   do_it()\n";
    let trace = parse_trace(text).unwrap();
    assert_eq!(trace.error_type, "");
    assert_eq!(trace.frames.len(), 1);
}
