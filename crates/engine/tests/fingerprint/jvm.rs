use faultline_engine::fingerprint::{Language, parse_trace};

use crate::common::{in_app_functions, keys, parse_fixture};

#[test]
fn spring_request_with_a_cause_chain_yields_the_root_cause() {
    let trace = parse_fixture("jvm_spring_payment.txt");
    assert_eq!(trace.language, Language::Jvm);
    assert_eq!(trace.error_type, "java.net.SocketTimeoutException");
    assert_eq!(trace.message, "Read timed out");
    assert_eq!(
        trace.frames.len(),
        9 + 26,
        "printed frames plus the 26 shared with the enclosing trace"
    );
    let oldest = &trace.frames[0];
    assert_eq!(
        oldest.module.as_deref(),
        Some("java.lang.Thread"),
        "java.base/ prefix removed"
    );
    assert_eq!(oldest.function.as_deref(), Some("run"));
    let crash = &trace.frames[34];
    assert_eq!(crash.module.as_deref(), Some("sun.nio.ch.NioSocketImpl"));
    assert_eq!(crash.function.as_deref(), Some("timedRead"));
    assert_eq!(crash.file.as_deref(), Some("NioSocketImpl.java"));
    assert_eq!(crash.line, Some(288));
    assert!(!crash.in_app);
    assert_eq!(
        in_app_functions(&trace.frames),
        [
            "checkout",
            "lambda$checkout$0",
            "charge",
            "charge",
            "createCharge",
            "post"
        ]
    );
    assert_eq!(
        keys(&trace.frames),
        [
            "CheckoutController:checkout",
            "CheckoutController:lambda$checkout",
            "PaymentService:charge",
            "StripeGateway:createCharge",
            "StripeGateway:post"
        ],
        "the CGLIB proxy frame is dropped"
    );
}

#[test]
fn native_and_generated_locations() {
    let trace = parse_fixture("jvm_spring_payment.txt");
    let proxy = trace
        .frames
        .iter()
        .find(|frame| frame.module.as_deref().is_some_and(|m| m.contains("CGLIB")))
        .unwrap();
    assert_eq!(proxy.file, None);
    let native = trace
        .frames
        .iter()
        .find(|frame| frame.function.as_deref() == Some("invoke0"))
        .unwrap();
    assert_eq!((native.file.as_deref(), native.line), (None, None));
}

#[test]
fn java8_logback_packaging_data_is_ignored() {
    let trace = parse_fixture("jvm_spring_payment_java8_other_release.txt");
    assert_eq!(trace.error_type, "java.net.SocketTimeoutException");
    assert_eq!(trace.frames.len(), 9 + 24);
    assert_eq!(trace.frames[32].function.as_deref(), Some("socketRead0"));
    assert_eq!(trace.frames[26].file.as_deref(), Some("StripeGateway.java"));
    assert_eq!(trace.frames[26].line, Some(140));
}

#[test]
fn kotlin_coroutine_with_suppressed_exception() {
    let trace = parse_fixture("jvm_kotlin_suppressed.txt");
    assert_eq!(trace.error_type, "com.acme.sync.RemoteStoreException");
    assert_eq!(
        trace.message,
        "HTTP 503 from store-eu-1\nDetail: upstream unavailable"
    );
    assert_eq!(trace.frames.len(), 3 + 7);
    assert_eq!(
        trace.frames[0].module.as_deref(),
        Some("kotlinx.coroutines.scheduling.CoroutineScheduler$Worker")
    );
    assert_eq!(trace.frames[9].function.as_deref(), Some("fetchPage"));
    assert!(
        trace
            .frames
            .iter()
            .all(|frame| frame.function.as_deref() != Some("close")),
        "suppressed frames are not part of the root cause"
    );
    assert_eq!(
        keys(&trace.frames),
        [
            "TenantSyncer:invokeSuspend",
            "TenantSyncer:syncTenant",
            "RemoteStore:fetchAll",
            "RemoteStore:fetchPage"
        ]
    );
}

#[test]
fn single_exception_with_thread_header() {
    let text = "Exception in thread \"main\" java.lang.IllegalStateException: config missing: db.url\n\
        \tat com.acme.App.loadConfig(App.java:31)\n\
        \tat com.acme.App.main(App.java:12)\n";
    let trace = parse_trace(text).unwrap();
    assert_eq!(trace.error_type, "java.lang.IllegalStateException");
    assert_eq!(trace.message, "config missing: db.url");
    assert_eq!(trace.frames.len(), 2);
    assert_eq!(trace.frames[0].function.as_deref(), Some("main"));
    assert_eq!(trace.frames[1].function.as_deref(), Some("loadConfig"));
    assert!(trace.frames.iter().all(|frame| frame.in_app));
}

#[test]
fn scala_frames() {
    let text = "scala.MatchError: Pending (of class com.acme.Status$Pending$)\n\
        \tat com.acme.jobs.Reconciler$.$anonfun$reconcile$1(Reconciler.scala:44)\n\
        \tat scala.collection.immutable.List.map(List.scala:246)\n\
        \tat com.acme.jobs.Reconciler$.reconcile(Reconciler.scala:40)\n";
    let trace = parse_trace(text).unwrap();
    assert_eq!(trace.error_type, "scala.MatchError");
    assert_eq!(
        keys(&trace.frames),
        ["Reconciler:reconcile", "Reconciler:anonfun$reconcile"]
    );
}
