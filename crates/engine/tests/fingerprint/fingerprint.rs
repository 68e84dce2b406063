//! What a fingerprint ignores, what it does not, and that it stays the same across versions.

use faultline_engine::fingerprint::{Fingerprint, fingerprint, fingerprint_text};
use faultline_model::Frame;

use crate::common::{text_fingerprint, trace_text};

fn frame(module: Option<&str>, function: &str, file: &str, line: u32) -> Frame {
    Frame {
        module: module.map(str::to_owned),
        function: Some(function.to_owned()),
        file: Some(file.to_owned()),
        line: Some(line),
        in_app: true,
    }
}

const PYTHON: &str = "Traceback (most recent call last):
  File \"/srv/app/app/views/orders.py\", line 40, in post
    order = create_order(payload)
  File \"/srv/app/app/services/orders.py\", line 12, in create_order
    return repo.insert(order)
KeyError: 'sku'
";

#[test]
fn line_numbers_and_paths_do_not_matter() {
    let moved = PYTHON
        .replace("line 40", "line 47")
        .replace("line 12", "line 3")
        .replace("/srv/app/", "/home/ci/builds/8812/");
    assert_eq!(text_fingerprint(PYTHON), text_fingerprint(&moved));
}

#[test]
fn message_does_not_matter() {
    assert_eq!(
        text_fingerprint(PYTHON),
        text_fingerprint(&PYTHON.replace("'sku'", "'price'"))
    );
}

#[test]
fn a_different_function_or_type_does() {
    let other_function = PYTHON.replace("in create_order", "in update_order");
    let other_type = PYTHON.replace("KeyError", "ValueError");
    let other_file = PYTHON.replace("services/orders.py", "services/invoices.py");
    let base = text_fingerprint(PYTHON);
    assert_ne!(base, text_fingerprint(&other_function));
    assert_ne!(base, text_fingerprint(&other_type));
    assert_ne!(base, text_fingerprint(&other_file));
}

#[test]
fn frame_order_matters() {
    let a = frame(None, "a", "/srv/app/x.py", 1);
    let b = frame(None, "b", "/srv/app/x.py", 2);
    assert_ne!(
        fingerprint("E", &[a.clone(), b.clone()]),
        fingerprint("E", &[b, a])
    );
}

#[test]
fn qualified_and_bare_exception_types_agree() {
    let frames = [frame(None, "run", "/srv/app/jobs.py", 1)];
    assert_eq!(
        fingerprint("psycopg2.OperationalError", &frames),
        fingerprint("OperationalError", &frames)
    );
    assert_eq!(
        fingerprint("java.lang.NullPointerException", &frames),
        fingerprint("NullPointerException", &frames)
    );
}

#[test]
fn jvm_lambda_numbers_proxies_and_accessors_do_not_matter() {
    let text = |lambda: &str, proxy: &str, line: u32| {
        format!(
            "java.lang.IllegalArgumentException: bad sku\n\
             \tat com.acme.orders.OrderService.validate(OrderService.java:{line})\n\
             \tat com.acme.orders.OrderService.access$000(OrderService.java:12)\n\
             \tat com.acme.orders.OrderService$$EnhancerBySpringCGLIB$${proxy}.create(<generated>)\n\
             \tat com.acme.orders.OrderController.{lambda}(OrderController.java:{line})\n\
             \tat com.acme.orders.OrderController$$Lambda$1461/0x0000000800b9c440.apply(Unknown Source)\n\
             \tat java.base/java.util.Optional.map(Optional.java:260)\n\
             \tat com.acme.orders.OrderController.create(OrderController.java:30)\n"
        )
    };
    let base = text_fingerprint(&text("lambda$create$0", "8f3e2a1", 40));
    assert_eq!(
        base,
        text_fingerprint(&text("lambda$create$3", "0c11d9b", 52))
    );
    assert_ne!(
        base,
        text_fingerprint(&text("lambda$update$0", "8f3e2a1", 40))
    );
}

#[test]
fn go_addresses_and_closure_numbers_do_not_matter() {
    let text = |closure: &str, address: &str| {
        format!(
            "panic: boom\n\ngoroutine 7 [running]:\n\
             main.handler.{closure}({address}, 0x3)\n\t/app/main.go:42 +0x1d\n\
             main.handler({address})\n\t/app/main.go:40 +{address}\n"
        )
    };
    assert_eq!(
        text_fingerprint(&text("func1", "0xc000010000")),
        text_fingerprint(&text("func2.1", "0xc0000a2f00"))
    );
}

#[test]
fn javascript_bundle_hashes_and_columns_do_not_matter() {
    let text = |bundle: &str, column: u32| {
        format!(
            "TypeError: x is not a function\n\
             \x20   at renderCart (https://cdn.example.com/static/js/{bundle}:2:{column})\n\
             \x20   at https://cdn.example.com/static/js/{bundle}:2:99\n\
             \x20   at checkout (https://cdn.example.com/static/js/{bundle}:2:{column})\n"
        )
    };
    assert_eq!(
        text_fingerprint(&text("main.3f2a1b9c.js", 4412)),
        text_fingerprint(&text("main.77e0d1aa.js", 5120))
    );
}

#[test]
fn a_differing_outer_framework_does_not_matter() {
    let in_app = |n: u32| frame(None, &format!("step{n}"), "/srv/app/app/pipeline.py", n);
    let library = |n: u32| {
        frame(
            None,
            &format!("outer{n}"),
            "/usr/lib/python3.12/runner.py",
            n,
        )
    };
    let direct: Vec<Frame> = (0..10).map(in_app).collect();
    let mut under_a_runner: Vec<Frame> = (0..5).map(library).collect();
    under_a_runner.extend((0..10).map(in_app));
    under_a_runner[5] = frame(None, "bootstrap", "/srv/app/app/main.py", 1);
    assert_eq!(fingerprint("E", &direct), fingerprint("E", &under_a_runner));
}

#[test]
fn no_frames_at_all_falls_back_to_the_type() {
    assert_eq!(
        fingerprint("TimeoutError", &[]),
        fingerprint("asyncio.TimeoutError", &[])
    );
    assert_ne!(
        fingerprint("TimeoutError", &[]),
        fingerprint("KeyError", &[])
    );
}

/// Stored fingerprints must not change silently: a change here needs a `FINGERPRINT_VERSION` bump.
#[test]
fn fingerprints_are_stable_across_releases() {
    let pinned = [
        ("python_dashboard.txt", "b70ce61ca7ebe91b"),
        ("jvm_spring_payment.txt", "ea2ed11513cbd5b8"),
        ("node_express.txt", "02b1828780bf29a6"),
        ("react_button_bundle.txt", "84bbd0460f9978d3"),
        ("go_nethttp_panic.txt", "f417b3856f39e54a"),
    ];
    for (name, expected) in pinned {
        let (fingerprint, _) = fingerprint_text(&trace_text(name)).unwrap();
        let expected: Fingerprint = expected.parse().unwrap();
        assert_eq!(fingerprint, expected, "{name}: {fingerprint}");
    }
}
