use faultline_engine::fingerprint::{Language, parse_trace};

use crate::common::{functions, in_app_functions, keys, parse_fixture};

#[test]
fn express_route_error() {
    let trace = parse_fixture("node_express.txt");
    assert_eq!(trace.language, Language::JavaScript);
    assert_eq!(trace.error_type, "TypeError");
    assert_eq!(
        trace.message,
        "Cannot read properties of undefined (reading 'id')"
    );
    assert_eq!(trace.frames.len(), 10);
    assert_eq!(
        functions(&trace.frames),
        [
            "next",
            "Function.process_params",
            "-",
            "Layer.handle [as handle_request]",
            "Route.dispatch",
            "next",
            "Layer.handle [as handle_request]",
            "listOrders",
            "Array.map",
            "serializeOrder"
        ]
    );
    let anonymous = &trace.frames[2];
    assert_eq!(
        anonymous.file.as_deref(),
        Some("/app/node_modules/express/lib/router/index.js")
    );
    assert_eq!(anonymous.line, Some(284));
    let native = &trace.frames[8];
    assert_eq!(native.file, None);
    assert!(!native.in_app);
    let crash = &trace.frames[9];
    assert_eq!(crash.file.as_deref(), Some("/app/src/orders/serialize.js"));
    assert_eq!(crash.line, Some(14));
    assert_eq!(
        in_app_functions(&trace.frames),
        ["listOrders", "serializeOrder"]
    );
    assert_eq!(keys(&trace.frames), ["listOrders", "serializeOrder"]);
}

#[test]
fn react_development_build() {
    let trace = parse_fixture("react_button_dev.txt");
    assert_eq!(trace.frames.len(), 10);
    assert_eq!(
        trace.frames[0].function.as_deref(),
        Some("dispatchEventsForPlugins")
    );
    assert_eq!(
        trace.frames[8].file.as_deref(),
        Some("webpack:///./src/components/Button.js")
    );
    assert_eq!(trace.frames[8].line, Some(12));
    assert_eq!(
        in_app_functions(&trace.frames),
        ["handleClick", "submitOrder"]
    );
}

#[test]
fn react_production_bundle() {
    let trace = parse_fixture("react_button_bundle.txt");
    assert_eq!(
        trace.error_type, "TypeError",
        "the browser's Uncaught prefix is dropped"
    );
    assert_eq!(trace.frames.len(), 10);
    assert_eq!(
        trace.frames[9].file.as_deref(),
        Some("https://cdn.example.com/static/js/main.3f2a1b9c.js")
    );
    assert_eq!(trace.frames[9].line, Some(2));
    assert_eq!(
        keys(&trace.frames),
        ["handleClick", "submitOrder"],
        "minified framework names are dropped"
    );
}

#[test]
fn async_frames_and_a_nested_cause() {
    let trace = parse_fixture("node_async_cause.txt");
    assert_eq!(trace.error_type, "Error");
    assert_eq!(trace.message, "failed to load profile for user 1842");
    assert_eq!(
        functions(&trace.frames),
        [
            "-",
            "getDashboard",
            "Promise.all",
            "process.processTicksAndRejections",
            "loadProfile"
        ],
        "the [cause] block is not part of the outer error's stack"
    );
    assert_eq!(
        trace.frames[0].file.as_deref(),
        Some("/app/src/dashboard/routes.js")
    );
    assert_eq!(trace.frames[2].file, None);
    assert_eq!(
        trace.frames[3].file.as_deref(),
        Some("node:internal/process/task_queues")
    );
    assert!(!trace.frames[3].in_app);
    assert_eq!(
        in_app_functions(&trace.frames),
        ["-", "getDashboard", "loadProfile"]
    );
}

#[test]
fn node_error_codes_constructors_eval_and_esm() {
    let trace = parse_fixture("node_headers_sent.txt");
    assert_eq!(trace.error_type, "Error [ERR_HTTP_HEADERS_SENT]");
    assert_eq!(
        trace.message,
        "Cannot set headers after they are sent to the client"
    );
    assert_eq!(trace.frames.len(), 9);
    assert_eq!(
        trace.frames[0].file.as_deref(),
        Some("/app/src/server.mjs"),
        "file:// removed"
    );
    assert_eq!(trace.frames[1].function.as_deref(), Some("eval"));
    assert_eq!(trace.frames[1].file, None);
    assert_eq!(trace.frames[8].function.as_deref(), Some("new NodeError"));
    assert_eq!(
        keys(&trace.frames),
        ["update"],
        "anonymous, eval, Object.<anonymous> and library frames do not count"
    );
}

#[test]
fn header_after_a_multi_line_message() {
    let text = "Error: Command failed: git push origin main\n\
        stderr: fatal: unable to access remote\n\
        \x20   at ChildProcess.exithandler (node:child_process:422:12)\n\
        \x20   at deploy (/app/src/deploy.js:18:9)\n";
    let trace = parse_trace(text).unwrap();
    assert_eq!(trace.error_type, "Error");
    assert_eq!(
        trace.message,
        "Command failed: git push origin main\nstderr: fatal: unable to access remote"
    );
    assert_eq!(trace.frames.len(), 2);
}
