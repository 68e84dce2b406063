//! Which frames belong to a library (framework, runtime, standard library) rather than the app.
//!
//! The decision reads only a frame's `file` and `module`, never its `in_app` flag: text traces
//! have no flag, and a vendor's flag follows per-project settings (Sentry's `in_app_include`,
//! SDK defaults) that a log line cannot know. Deciding from the frame's location alone is what
//! makes a Sentry event and the same exception printed in a log keep the same frames, and so get
//! the same fingerprint. A structured frame flagged `in_app = false` therefore counts as a library
//! frame only when its location also looks like a library; the parsers set `in_app` on the frames
//! they build from this same test, so stored frames carry a consistent flag.

use faultline_model::Frame;

use super::text::{basename, extension, file_stem, last_segment};

/// The language family a frame comes from, guessed from its file, else from its module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flavor {
    Python,
    Jvm,
    JavaScript,
    Go,
    Unknown,
}

pub(super) fn flavor(frame: &Frame) -> Flavor {
    let module = frame.module.as_deref().unwrap_or_default();
    flavor_of_file(real_file(frame)).unwrap_or_else(|| flavor_of_module(module))
}

/// The frame's file, or "" for the placeholders runtimes print instead of one (`<anonymous>`,
/// `native`, `Unknown Source`, …), so a vendor that keeps the placeholder and a parser that
/// drops it describe the same frame.
pub(super) fn real_file(frame: &Frame) -> &str {
    let file = frame.file.as_deref().unwrap_or_default().trim();
    match file {
        "<anonymous>" | "<unknown>" | "native" | "[native code]" | "Native Method"
        | "Unknown Source" | "<generated>" => "",
        _ => file,
    }
}

fn flavor_of_file(file: &str) -> Option<Flavor> {
    if file.is_empty() {
        return None;
    }
    if file.starts_with("<frozen ") {
        return Some(Flavor::Python);
    }
    let name = basename(file);
    let flavor = match extension(name) {
        "py" | "pyc" | "pyx" | "pyw" => Flavor::Python,
        "java" | "kt" | "kts" | "scala" | "groovy" | "clj" | "cljc" => Flavor::Jvm,
        "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" | "vue" | "svelte" => {
            Flavor::JavaScript
        }
        "go" => Flavor::Go,
        _ if JS_URL_PREFIXES
            .iter()
            .any(|prefix| file.starts_with(prefix)) =>
        {
            Flavor::JavaScript
        }
        _ => return None,
    };
    Some(flavor)
}

const JS_URL_PREFIXES: [&str; 6] = [
    "node:", "webpack:", "http://", "https://", "app://", "file://",
];

fn flavor_of_module(module: &str) -> Flavor {
    if module.is_empty() {
        return Flavor::Unknown;
    }
    if module.contains('$') {
        return Flavor::Jvm;
    }
    if module.contains('/') {
        return Flavor::Go;
    }
    if !module.contains('.') {
        return Flavor::Unknown;
    }
    let starts_upper = last_segment(module, '.').starts_with(|c: char| c.is_ascii_uppercase());
    if starts_upper || module.contains('$') {
        Flavor::Jvm
    } else {
        Flavor::Python
    }
}

/// Whether the frame is library code by its location (see the module docs for why the frame's
/// own `in_app` flag is not consulted). A frame with neither file nor module is native or
/// runtime code (`Array.map (<anonymous>)`, `Promise.all (index 0)`) and counts as library.
#[must_use]
pub fn is_library_frame(frame: &Frame) -> bool {
    is_library(frame, flavor(frame))
}

/// [`is_library_frame`] for a frame whose flavor the caller already knows.
pub(super) fn is_library(frame: &Frame, flavor: Flavor) -> bool {
    let file = real_file(frame);
    let module = frame.module.as_deref().unwrap_or_default();
    if file.is_empty() && module.is_empty() {
        return true;
    }
    match flavor {
        Flavor::Python => is_python_library(file, module),
        Flavor::Jvm => is_jvm_library(module),
        Flavor::JavaScript => is_javascript_library(file),
        Flavor::Go => is_go_library(file, module),
        Flavor::Unknown => has_library_directory(file) || is_jvm_library(module),
    }
}

/// Directories that only hold installed dependencies or a runtime, whatever the language.
fn has_library_directory(file: &str) -> bool {
    has_python_library_directory(file)
        || file.contains("node_modules")
        || file.contains("/pkg/mod/")
        || file.contains("/vendor/")
}

fn is_python_library(file: &str, module: &str) -> bool {
    has_python_library_directory(file)
        || file.starts_with("<frozen ")
        || is_python_library_package(module.split('.').next().unwrap_or_default())
        || is_relative(file) && is_python_library_package(python_top_package_of_path(file))
}

fn has_python_library_directory(file: &str) -> bool {
    file.contains("-packages") // site-packages, dist-packages
        || has_python_standard_library_directory(file)
        || file.contains("\\Lib\\")
        || file.contains("/lib_pypy/")
}

/// `/usr/lib/python3.12/`, `/opt/venv/lib64/python3.9/`.
fn has_python_standard_library_directory(file: &str) -> bool {
    file.match_indices("python").any(|(index, marker)| {
        let before = &file[..index];
        let version = file.as_bytes().get(index + marker.len());
        (before.ends_with("/lib/") || before.ends_with("/lib64/"))
            && version.is_some_and(u8::is_ascii_digit)
    })
}

fn is_relative(file: &str) -> bool {
    !file.starts_with(['/', '\\', '<']) && file.as_bytes().get(1) != Some(&b':')
}

/// `django/core/handlers/base.py` → `django`; `threading.py` → `threading`.
fn python_top_package_of_path(file: &str) -> &str {
    let file = file.trim_start_matches("./");
    let first = file.split(['/', '\\']).next().unwrap_or_default();
    if extension(first) == "py" {
        file_stem(first)
    } else {
        first
    }
}

fn is_python_library_package(package: &str) -> bool {
    PYTHON_LIBRARY_PACKAGES.contains(&package)
}

/// Top-level packages of the standard library and of common frameworks. Only needed when a
/// structured frame carries a path relative to its package root (Sentry's `filename`) instead
/// of an absolute path: a text traceback always shows the `site-packages` or `lib/python3.x`
/// directory, which the directory test above already catches.
#[rustfmt::skip]
const PYTHON_LIBRARY_PACKAGES: &[&str] = &[
    // standard library
    "abc", "asyncio", "codecs", "collections", "concurrent", "contextlib", "copy",
    "dataclasses", "encodings", "functools", "http", "importlib", "inspect", "json", "logging",
    "multiprocessing", "pickle", "queue", "runpy", "sched", "selectors", "shutil", "signal",
    "socket", "socketserver", "sqlite3", "ssl", "subprocess", "tempfile", "threading", "traceback",
    "typing", "unittest", "urllib", "weakref", "wsgiref", "xmlrpc", "zipfile",
    // frameworks and drivers
    "_pytest", "aiohttp", "alembic", "amqp", "anyio", "asgiref", "asyncpg", "billiard", "boto3", "botocore",
    "celery", "channels", "click", "daphne", "ddtrace", "django", "dramatiq", "elasticsearch",
    "eventlet", "falcon", "fastapi", "flask", "gevent", "graphene", "graphql", "greenlet", "grpc",
    "gunicorn", "h11", "httpcore", "httpx", "jinja2", "kombu", "marshmallow", "MySQLdb", "numpy",
    "opentelemetry", "pandas", "pika", "pluggy", "psycopg", "psycopg2", "pydantic", "pydantic_core",
    "pymongo", "pymysql", "pyramid", "pytest", "redis", "requests", "rest_framework", "rq",
    "s3transfer", "sanic", "sentry_sdk", "sqlalchemy", "starlette", "strawberry", "structlog",
    "tornado", "twisted", "urllib3", "uvicorn", "vine", "waitress", "werkzeug",
];

/// Packages of the JDK, the JVM languages and common frameworks, by their first one or two
/// segments.
#[rustfmt::skip]
fn is_jvm_library(module: &str) -> bool {
    let mut segments = module.split('.');
    let first = segments.next().unwrap_or_default();
    let second = segments.next().unwrap_or_default();
    matches!(
        first,
        "akka" | "android" | "androidx" | "brave" | "dalvik" | "feign" | "jakarta" | "java"
        | "javax" | "jdk" | "junit" | "kotlin" | "kotlinx" | "okhttp3" | "okio" | "reactor"
        | "retrofit2" | "scala" | "sun"
    ) || matches!(
        (first, second),
        ("ch", "qos")
        | ("com", "android" | "fasterxml" | "google" | "mysql" | "sun" | "zaxxer")
        | ("io", "grpc" | "micrometer" | "micronaut" | "netty" | "opentelemetry" | "quarkus"
            | "reactivex" | "undertow" | "vertx")
        | ("net", "bytebuddy")
        | ("org", "apache" | "aspectj" | "eclipse" | "glassfish" | "gradle" | "hibernate"
            | "jboss" | "junit" | "mockito" | "postgresql" | "slf4j" | "springframework")
    )
}

fn is_javascript_library(file: &str) -> bool {
    file.contains("node_modules")
        || JS_RUNTIME_PREFIXES
            .iter()
            .any(|prefix| file.starts_with(prefix))
        || file.contains("/webpack/bootstrap")
        || is_node_core_file(file)
        || is_vendor_bundle(basename(file))
}

const JS_RUNTIME_PREFIXES: [&str; 6] = [
    "node:",
    "internal/",
    "chrome-extension://",
    "moz-extension://",
    "safari-extension://",
    "safari-web-extension://",
];

/// Node before v16 printed its core modules as bare names: `events.js`, `timers.js`.
fn is_node_core_file(file: &str) -> bool {
    !file.contains(['/', '\\'])
        && [
            "events",
            "timers",
            "net",
            "fs",
            "http",
            "https",
            "module",
            "domain",
            "_stream_readable",
        ]
        .contains(&file_stem(file))
}

/// Bundles that hold only third-party code: `vendors~main.3f2a1b9c.chunk.js`, `polyfills.js`.
fn is_vendor_bundle(name: &str) -> bool {
    let first = name.split('.').next().unwrap_or_default();
    [
        "vendor",
        "vendors",
        "chunk-vendors",
        "polyfills",
        "framework",
    ]
    .contains(&first)
        || first.starts_with("vendors~")
        || first.starts_with("vendors-")
}

fn is_go_library(file: &str, module: &str) -> bool {
    is_go_standard_package(module)
        || GO_LIBRARY_PREFIXES
            .iter()
            .any(|prefix| module.starts_with(prefix))
        || file.contains("/pkg/mod/")
        || file.contains("/vendor/")
        || is_goroot_file(file)
}

fn is_go_standard_package(package: &str) -> bool {
    let top = package.split('/').next().unwrap_or_default();
    GO_STANDARD_TOP_PACKAGES.contains(&top)
}

/// `/usr/local/go/src/net/http/server.go`: a `src/` directory followed by a standard package.
/// A GOPATH checkout (`/go/src/github.com/acme/app/main.go`) is not one.
fn is_goroot_file(file: &str) -> bool {
    file.match_indices("/src/").any(|(index, marker)| {
        let rest = &file[index + marker.len()..];
        match rest.split_once('/') {
            Some((top, _)) => GO_STANDARD_TOP_PACKAGES.contains(&top),
            None => false,
        }
    })
}

#[rustfmt::skip]
const GO_STANDARD_TOP_PACKAGES: &[&str] = &[
    "archive", "bufio", "bytes", "cmp", "compress", "container", "context", "crypto", "database",
    "debug", "embed", "encoding", "errors", "expvar", "flag", "fmt", "go", "hash", "html", "image",
    "index", "internal", "io", "iter", "log", "maps", "math", "mime", "net", "os", "path", "plugin",
    "reflect", "regexp", "runtime", "slices", "sort", "strconv", "strings", "sync", "syscall",
    "testing", "text", "time", "unicode", "unique", "unsafe", "weak",
];

#[rustfmt::skip]
const GO_LIBRARY_PREFIXES: &[&str] = &[
    "github.com/getsentry/", "github.com/gin-gonic/", "github.com/go-chi/", "github.com/gofiber/",
    "github.com/gorilla/", "github.com/jackc/", "github.com/labstack/", "github.com/lib/pq",
    "github.com/sirupsen/", "github.com/valyala/", "go.opentelemetry.io/", "go.uber.org/",
    "golang.org/x/", "google.golang.org/", "gorm.io/",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(module: Option<&str>, file: Option<&str>) -> Frame {
        Frame {
            module: module.map(str::to_owned),
            function: Some("f".to_owned()),
            file: file.map(str::to_owned),
            line: None,
            in_app: true,
        }
    }

    fn library(module: Option<&str>, file: Option<&str>) -> bool {
        is_library_frame(&frame(module, file))
    }

    #[test]
    fn python_library_by_directory_or_package() {
        assert!(library(
            None,
            Some("/usr/local/lib/python3.12/site-packages/django/core/base.py")
        ));
        assert!(library(None, Some("/usr/lib/python3.11/threading.py")));
        assert!(library(
            None,
            Some("/venv/lib64/python3.9/dist-packages/x.py")
        ));
        assert!(library(None, Some("<frozen runpy>")));
        assert!(library(
            Some("django.core.handlers.base"),
            Some("django/core/handlers/base.py")
        ));
        assert!(library(Some("threading"), Some("threading.py")));
        assert!(!library(None, Some("/srv/app/app/views/dashboard.py")));
        assert!(!library(
            Some("app.views.dashboard"),
            Some("app/views/dashboard.py")
        ));
        assert!(!library(None, Some("/srv/lib/pythonic/app.py")));
    }

    #[test]
    fn jvm_library_by_package() {
        assert!(library(
            Some("org.springframework.web.servlet.FrameworkServlet"),
            None
        ));
        assert!(library(Some("java.lang.Thread"), Some("Thread.java")));
        assert!(!library(
            Some("com.acme.web.Controller"),
            Some("Controller.java")
        ));
        assert!(!library(Some("com.acme.web.Controller"), None));
    }

    #[test]
    fn javascript_library_by_path() {
        assert!(library(
            None,
            Some("/app/node_modules/express/lib/router/layer.js")
        ));
        assert!(library(None, Some("node:internal/process/task_queues")));
        assert!(library(None, Some("internal/process/next_tick.js")));
        assert!(library(None, Some("events.js")));
        assert!(library(
            None,
            Some("https://cdn.example.com/js/vendors~main.1a2b3c4d.chunk.js")
        ));
        assert!(!library(
            None,
            Some("https://cdn.example.com/static/js/main.3f2a1b9c.js")
        ));
        assert!(!library(
            None,
            Some("webpack:///./src/components/Button.js")
        ));
        assert!(!library(None, Some("/app/server.js")));
    }

    #[test]
    fn go_library_by_package_or_path() {
        assert!(library(
            Some("net/http"),
            Some("/usr/local/go/src/net/http/server.go")
        ));
        assert!(library(None, Some("/usr/local/go/src/runtime/panic.go")));
        assert!(library(
            Some("runtime"),
            Some("/usr/local/go/src/runtime/panic.go")
        ));
        assert!(library(
            Some("github.com/go-chi/chi/v5"),
            Some("/go/pkg/mod/x/mux.go")
        ));
        assert!(!library(Some("main"), Some("/app/main.go")));
        assert!(!library(
            Some("github.com/acme/api/internal/db"),
            Some("/app/internal/db/pool.go")
        ));
        assert!(!library(
            Some("main"),
            Some("/go/src/github.com/acme/app/main.go")
        ));
    }

    #[test]
    fn frames_without_location_are_native() {
        assert!(library(None, None));
        assert!(library(None, Some("<anonymous>")));
        assert!(library(None, Some("native")));
    }

    #[test]
    fn flavor_follows_file_then_module() {
        assert_eq!(flavor(&frame(None, Some("x.py"))), Flavor::Python);
        assert_eq!(flavor(&frame(Some("com.acme.Foo"), None)), Flavor::Jvm);
        assert_eq!(flavor(&frame(Some("app.views"), None)), Flavor::Python);
        assert_eq!(flavor(&frame(Some("github.com/acme/db"), None)), Flavor::Go);
        assert_eq!(
            flavor(&frame(None, Some("webpack:///./src/a"))),
            Flavor::JavaScript
        );
        assert_eq!(flavor(&frame(Some("index"), None)), Flavor::Unknown);
    }
}
