//! The part of a frame that identifies it across sources: a *unit* (the file or class the code
//! lives in, without any directory) and a normalized function name.
//!
//! Each language keeps only what every shape of the same frame shows (a Sentry frame, a
//! traceback line, a minified bundle line):
//!
//! - Python: the file stem (`__init__.py` → its directory), else the last module segment, so
//!   `app/views/dashboard.py`, `/srv/app/app/views/dashboard.py` and module `app.views.dashboard`
//!   all give `dashboard`; the function's last dotted segment (Sentry's `DashboardView.get` and the
//!   traceback's `get` both give `get`).
//! - JVM: the outer class's simple name (`com.acme.Controller$1` → `Controller`); the method,
//!   with lambda and anonfun counters dropped (`lambda$main$0` → `lambda$main`).
//! - JavaScript: no unit at all, because a bundle path (`main.3f2a1b9c.js`) and the source-mapped
//!   file Sentry shows (`./src/components/Button.js`) never agree; the function's last dotted
//!   segment, without `async `, `new ` and `[as alias]`.
//! - Go: the last segment of the package path; the function without receiver punctuation, type
//!   arguments or closure suffixes (`(*Pool).Get.func1` → `Pool.Get`).
//!
//! Frames whose name the compiler or runtime made up carry no meaning across builds and are
//! skipped entirely (`frame_key` returns `None`): Python comprehensions and lambdas, JVM proxy and
//! lambda classes and `access$000` accessors, anonymous and minified JavaScript functions.

use std::borrow::Cow;
use std::fmt;

use faultline_model::Frame;

use super::library::{Flavor, flavor, real_file};
use super::text::{basename, dirname, file_stem, last_segment};

/// What a frame contributes to a fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FrameKey {
    pub unit: String,
    pub function: String,
}

impl fmt::Display for FrameKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unit.is_empty() {
            f.write_str(&self.function)
        } else {
            write!(f, "{}:{}", self.unit, self.function)
        }
    }
}

/// A [`FrameKey`] that borrows from its frame, for hashing without allocating.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Key<'a> {
    pub(super) unit: &'a str,
    pub(super) function: Cow<'a, str>,
}

impl<'a> Key<'a> {
    fn new(unit: &'a str, function: impl Into<Cow<'a, str>>) -> Self {
        Self {
            unit,
            function: function.into(),
        }
    }
}

impl From<Key<'_>> for FrameKey {
    fn from(key: Key<'_>) -> Self {
        Self {
            unit: key.unit.to_owned(),
            function: key.function.into_owned(),
        }
    }
}

/// The frame's key, or `None` for a generated frame that must not count.
#[must_use]
pub fn frame_key(frame: &Frame) -> Option<FrameKey> {
    key(frame, flavor(frame)).map(FrameKey::from)
}

/// The key of a frame whose flavor the caller already knows.
pub(super) fn key(frame: &Frame, flavor: Flavor) -> Option<Key<'_>> {
    let module = frame.module.as_deref().unwrap_or_default().trim();
    let file = real_file(frame);
    let function = frame.function.as_deref().unwrap_or_default().trim();
    match flavor {
        Flavor::Python => python_key(module, file, function),
        Flavor::Jvm => jvm_key(module, file, function),
        Flavor::JavaScript => javascript_key(function),
        Flavor::Go => go_key(module, file, function),
        Flavor::Unknown => generic_key(module, file, function),
    }
}

fn python_key<'a>(module: &'a str, file: &'a str, function: &'a str) -> Option<Key<'a>> {
    let name = last_segment(function, '.');
    if matches!(
        name,
        "<lambda>" | "<listcomp>" | "<dictcomp>" | "<setcomp>" | "<genexpr>"
    ) {
        return None;
    }
    Some(Key::new(python_unit(module, file), name))
}

fn python_unit<'a>(module: &'a str, file: &'a str) -> &'a str {
    if let Some(pseudo) = file
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix('>'))
    {
        let name = pseudo.strip_prefix("frozen ").unwrap_or(pseudo);
        return last_segment(if module.is_empty() { name } else { module }, '.');
    }
    if file.is_empty() {
        return last_segment(module, '.');
    }
    match file_stem(basename(file)) {
        "__init__" => basename(dirname(file)),
        stem => stem,
    }
}

fn jvm_key<'a>(module: &'a str, file: &'a str, function: &'a str) -> Option<Key<'a>> {
    if is_generated_jvm_class(module) || is_synthetic_accessor(function) {
        return None;
    }
    let unit = if module.is_empty() {
        file_stem(basename(file))
    } else {
        outer_class(module)
    };
    Some(Key::new(unit, normalize_jvm_method(function)))
}

/// `com.acme.Controller$Inner$1` → `Controller`.
fn outer_class(class: &str) -> &str {
    let simple = last_segment(class, '.');
    simple
        .split('$')
        .find(|part| !part.is_empty())
        .unwrap_or(simple)
}

fn is_generated_jvm_class(class: &str) -> bool {
    const MARKERS: [&str; 8] = [
        "$$Lambda",
        "$$EnhancerBy",
        "$$FastClassBy",
        "$$SpringCGLIB$$",
        "$HibernateProxy$",
        "$ByteBuddy$",
        "$MockitoMock$",
        ".$Proxy",
    ];
    MARKERS.iter().any(|marker| class.contains(marker)) || class.starts_with("jdk.proxy")
}

/// `access$000`, the accessor javac generated for nested classes before Java 11.
fn is_synthetic_accessor(method: &str) -> bool {
    method
        .strip_prefix("access$")
        .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
}

/// `lambda$main$0` → `lambda$main`; `$anonfun$run$1` → `anonfun$run`; `main$lambda-2` →
/// `main$lambda`.
fn normalize_jvm_method(method: &str) -> &str {
    let mut name = method;
    loop {
        let digits = name.bytes().rev().take_while(u8::is_ascii_digit).count();
        let head = &name[..name.len() - digits];
        match head.strip_suffix(['$', '-']) {
            Some(stripped) if digits > 0 && !stripped.is_empty() => name = stripped,
            _ => break,
        }
    }
    name.trim_start_matches('$')
}

fn javascript_key(function: &str) -> Option<Key<'_>> {
    let name = normalize_javascript_function(function);
    (!is_generated_javascript_name(name)).then(|| Key::new("", name))
}

/// `async Layer.handle [as handle_request]` → `handle`; `new Foo` → `Foo`.
fn normalize_javascript_function(function: &str) -> &str {
    let name = function.strip_prefix("async ").unwrap_or(function);
    let name = name.strip_prefix("new ").unwrap_or(name);
    let name = name.find(" [as ").map_or(name, |alias| &name[..alias]);
    last_segment(name.trim(), '.')
}

/// Anonymous functions, and the one- or two-letter names a minifier leaves (`t`, `Xe`).
fn is_generated_javascript_name(name: &str) -> bool {
    name.len() <= 2 || name.starts_with('<') || matches!(name, "anonymous" | "eval")
}

fn go_key<'a>(module: &'a str, file: &'a str, function: &str) -> Option<Key<'a>> {
    let unit = if module.is_empty() {
        basename(dirname(file))
    } else {
        last_segment(module, '/')
    };
    let name = normalize_go_function(function)?;
    Some(Key::new(unit, name))
}

/// `(*Pool).Get.func1.2` → `Pool.Get`; `Map[...]` → `Map`; `main.gowrap1` → `main`.
fn normalize_go_function(function: &str) -> Option<String> {
    let function = without_type_arguments(function);
    let mut parts: Vec<&str> = Vec::new();
    for segment in function.split('.') {
        let segment = strip_go_decorations(segment);
        if !segment.is_empty() && !is_go_closure_segment(segment) {
            parts.push(segment);
        }
    }
    (!parts.is_empty()).then(|| parts.join("."))
}

/// `Map[...]`, `Cache[go.shape.string].Get` → `Map`, `Cache.Get`.
fn without_type_arguments(function: &str) -> String {
    let mut depth = 0usize;
    let mut kept = String::with_capacity(function.len());
    for c in function.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => kept.push(c),
            _ => {}
        }
    }
    kept
}

fn strip_go_decorations(segment: &str) -> &str {
    let segment = segment.strip_suffix("-fm").unwrap_or(segment);
    segment.trim_start_matches(['(', '*']).trim_end_matches(')')
}

fn is_go_closure_segment(segment: &str) -> bool {
    let counter = ["func", "gowrap", "deferwrap"]
        .iter()
        .find_map(|prefix| segment.strip_prefix(prefix))
        .unwrap_or(segment);
    !counter.is_empty() && counter.bytes().all(|b| b.is_ascii_digit())
}

fn generic_key<'a>(module: &'a str, file: &'a str, function: &'a str) -> Option<Key<'a>> {
    if function.is_empty() && module.is_empty() && file.is_empty() {
        return None;
    }
    let unit = if module.is_empty() {
        file_stem(basename(file))
    } else {
        last_segment(module, ':')
            .rsplit(['.', '/'])
            .next()
            .unwrap_or(module)
    };
    let generated = function.starts_with('<') || function.ends_with("<anonymous>");
    (!generated).then(|| Key::new(unit, function))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(module: Option<&str>, function: &str, file: Option<&str>) -> Option<String> {
        let frame = Frame {
            module: module.map(str::to_owned),
            function: Some(function.to_owned()),
            file: file.map(str::to_owned),
            line: Some(1),
            in_app: true,
        };
        frame_key(&frame).map(|key| key.to_string())
    }

    #[test]
    fn python_units_agree_between_module_and_path() {
        let text = key(None, "get", Some("/srv/app/app/views/dashboard.py"));
        let sentry = key(
            Some("app.views.dashboard"),
            "get",
            Some("app/views/dashboard.py"),
        );
        let module_only = key(Some("app.views.dashboard"), "DashboardView.get", None);
        assert_eq!(text.as_deref(), Some("dashboard:get"));
        assert_eq!(text, sentry);
        assert_eq!(text, module_only);
        assert_eq!(
            key(None, "setup", Some("/srv/app/app/views/__init__.py")).unwrap(),
            "views:setup"
        );
        assert_eq!(
            key(
                Some("importlib._bootstrap"),
                "_load",
                Some("<frozen importlib._bootstrap>")
            )
            .unwrap(),
            "_bootstrap:_load"
        );
        assert_eq!(
            key(None, "_load", Some("<frozen importlib._bootstrap>")).unwrap(),
            "_bootstrap:_load"
        );
    }

    #[test]
    fn python_generated_frames_are_skipped() {
        for name in [
            "<lambda>",
            "<listcomp>",
            "<genexpr>",
            "<dictcomp>",
            "<setcomp>",
        ] {
            assert_eq!(key(None, name, Some("/srv/app/a.py")), None, "{name}");
        }
        assert_eq!(
            key(None, "<module>", Some("/srv/app/a.py")).unwrap(),
            "a:<module>"
        );
    }

    #[test]
    fn jvm_units_drop_package_and_inner_classes() {
        assert_eq!(
            key(
                Some("com.acme.web.Controller"),
                "handle",
                Some("Controller.java")
            )
            .unwrap(),
            "Controller:handle"
        );
        assert_eq!(
            key(Some("com.acme.web.Controller$Inner$1"), "run", None).unwrap(),
            "Controller:run"
        );
        assert_eq!(
            key(Some("com.acme.Main"), "lambda$main$0", Some("Main.java")).unwrap(),
            "Main:lambda$main"
        );
        assert_eq!(
            key(Some("com.acme.Job$"), "$anonfun$run$1", Some("Job.scala")).unwrap(),
            "Job:anonfun$run"
        );
        assert_eq!(
            key(Some("com.acme.AppKt"), "main$lambda-2", Some("App.kt")).unwrap(),
            "AppKt:main$lambda"
        );
        assert_eq!(
            key(Some("com.acme.Outer"), "access$000", Some("Outer.java")),
            None
        );
        assert_eq!(
            key(
                Some("com.acme.Main$$Lambda$12/0x0000000800c0b000"),
                "run",
                None
            ),
            None
        );
        assert_eq!(
            key(
                Some("com.acme.Service$$EnhancerBySpringCGLIB$$8f3e2a1"),
                "pay",
                None
            ),
            None
        );
        assert_eq!(
            key(Some("com.acme.Service$$SpringCGLIB$$0"), "pay", None),
            None
        );
        assert_eq!(key(Some("jdk.proxy2.$Proxy123"), "pay", None), None);
    }

    #[test]
    fn javascript_keys_ignore_the_file() {
        let sentry = key(None, "handleClick", Some("./src/components/Button.js"));
        let text = key(
            None,
            "handleClick",
            Some("webpack:///./src/components/Button.js"),
        );
        let bundle = key(
            None,
            "handleClick",
            Some("https://cdn.example.com/static/js/main.3f2a1b9c.js"),
        );
        assert_eq!(sentry.as_deref(), Some("handleClick"));
        assert_eq!(sentry, text);
        assert_eq!(sentry, bundle);
        assert_eq!(
            key(
                None,
                "Layer.handle [as handle_request]",
                Some("/a/layer.js")
            )
            .unwrap(),
            "handle"
        );
        assert_eq!(key(None, "new Pool", Some("/a/pool.js")).unwrap(), "Pool");
        assert_eq!(
            key(None, "async OAuthProviderImpl.fetch", Some("/index.js")).unwrap(),
            "fetch"
        );
        assert_eq!(
            key(None, "Object.<anonymous>", Some("/app/server.js")),
            None
        );
        assert_eq!(key(None, "t", Some("/static/js/main.3f2a1b9c.js")), None);
    }

    #[test]
    fn go_functions_lose_receivers_and_closures() {
        let file = Some("/app/internal/db/pool.go");
        let module = Some("github.com/acme/api/internal/db");
        assert_eq!(key(module, "(*Pool).Get", file).unwrap(), "db:Pool.Get");
        assert_eq!(
            key(module, "(*Pool).Get.func1", file).unwrap(),
            "db:Pool.Get"
        );
        assert_eq!(
            key(module, "(*Pool).Get.func2.1", file).unwrap(),
            "db:Pool.Get"
        );
        assert_eq!(
            key(Some("main"), "main.gowrap1", Some("/app/main.go")).unwrap(),
            "main:main"
        );
        assert_eq!(
            key(Some("main"), "Map[...]", Some("/app/main.go")).unwrap(),
            "main:Map"
        );
        assert_eq!(
            key(
                Some("main"),
                "Cache[go.shape.string].Get",
                Some("/app/main.go")
            )
            .unwrap(),
            "main:Cache.Get"
        );
        assert_eq!(
            key(Some("main"), "(*T).Run-fm", Some("/app/main.go")).unwrap(),
            "main:T.Run"
        );
        assert_eq!(
            key(None, "handler", Some("/app/cmd/api/main.go")).unwrap(),
            "api:handler"
        );
    }
}
