//! Exceptions with realistic stack frames: Django requests, Celery tasks and the libraries they
//! call (psycopg2, redis-py, botocore, kombu, stripe, requests), and browser JavaScript.
//!
//! Frames are listed oldest call first, the crash site last, as Sentry and Python print them.
//! The same [`Exception`] renders as Sentry frames and as a Python traceback text, so a Sentry
//! error and the Datadog log line of the same request describe the same exception.

use std::fmt::Write as _;

use faultline_model::Frame;

use crate::world::World;

/// One frame of a static stack table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FrameSpec {
    pub module: &'static str,
    pub function: &'static str,
    /// Path relative to site-packages (libraries) or to the app root (app code).
    pub file: &'static str,
    pub line: u32,
    /// The source line, printed under the frame in text tracebacks.
    pub code: &'static str,
    pub in_app: bool,
}

const fn lib(
    module: &'static str,
    function: &'static str,
    file: &'static str,
    line: u32,
    code: &'static str,
) -> FrameSpec {
    FrameSpec {
        module,
        function,
        file,
        line,
        code,
        in_app: false,
    }
}

pub(crate) const fn app(
    module: &'static str,
    function: &'static str,
    file: &'static str,
    line: u32,
    code: &'static str,
) -> FrameSpec {
    FrameSpec {
        module,
        function,
        file,
        line,
        code,
        in_app: true,
    }
}

/// Which runtime threw, for rendering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Language {
    Python,
    JavaScript,
}

/// A thrown exception: its type, message and frames.
#[derive(Clone, Debug)]
pub(crate) struct Exception {
    pub error_type: String,
    pub message: String,
    pub frames: Vec<Frame>,
    /// Source line of each frame (same length as `frames`), for text tracebacks.
    pub code: Vec<&'static str>,
    pub language: Language,
}

impl Exception {
    /// A Python exception raised through `segments` (outermost first).
    pub(crate) fn python(
        world: &World,
        error_type: &str,
        message: String,
        segments: &[&[FrameSpec]],
    ) -> Exception {
        let site_packages = format!("/usr/local/lib/python{}/site-packages/", world.python);
        let mut frames = Vec::with_capacity(16);
        let mut code = Vec::with_capacity(16);
        for spec in segments.iter().flat_map(|segment| segment.iter()) {
            let root = if spec.in_app {
                world.app_root
            } else {
                site_packages.as_str()
            };
            frames.push(python_frame(spec, root));
            code.push(spec.code);
        }
        Exception {
            error_type: error_type.to_string(),
            message,
            frames,
            code,
            language: Language::Python,
        }
    }

    /// A browser exception; `frames` are JavaScript frames, oldest first.
    pub(crate) fn javascript(error_type: &str, message: String, frames: Vec<Frame>) -> Exception {
        let code = vec![""; frames.len()];
        Exception {
            error_type: error_type.to_string(),
            message,
            frames,
            code,
            language: Language::JavaScript,
        }
    }

    /// The exception type without its module: `OperationalError` for `psycopg2.OperationalError`.
    pub(crate) fn short_type(&self) -> &str {
        self.error_type
            .rsplit('.')
            .next()
            .unwrap_or(self.error_type.as_str())
    }

    /// `OperationalError: could not connect…`, Sentry's title and the last traceback line's gist.
    pub(crate) fn title(&self) -> String {
        let first_line = self.message.lines().next().unwrap_or_default();
        format!("{}: {}", self.short_type(), first_line)
    }

    /// The innermost in-app frame as `module in function`, Sentry's culprit.
    pub(crate) fn culprit(&self) -> String {
        self.frames
            .iter()
            .rev()
            .find(|frame| frame.in_app)
            .or(self.frames.last())
            .map(|frame| {
                format!(
                    "{} in {}",
                    frame.module.as_deref().unwrap_or("?"),
                    frame.function.as_deref().unwrap_or("?")
                )
            })
            .unwrap_or_default()
    }

    /// The exception as the runtime prints it: a Python traceback or a JS `stack` string.
    pub(crate) fn traceback(&self) -> String {
        match self.language {
            Language::Python => self.python_traceback(),
            Language::JavaScript => self.javascript_stack(),
        }
    }

    fn python_traceback(&self) -> String {
        let mut out = String::with_capacity(160 * self.frames.len() + 120);
        out.push_str("Traceback (most recent call last):\n");
        for (frame, code) in self.frames.iter().zip(&self.code) {
            let function = frame.function.as_deref().unwrap_or("<module>");
            let _ = writeln!(
                out,
                "  File \"{}\", line {}, in {}",
                frame.file.as_deref().unwrap_or("<unknown>"),
                frame.line.unwrap_or(0),
                code_name(function)
            );
            if !code.is_empty() {
                let _ = writeln!(out, "    {code}");
            }
        }
        let _ = write!(out, "{}: {}", self.error_type, self.message);
        out
    }

    fn javascript_stack(&self) -> String {
        let mut out = format!("{}: {}", self.short_type(), self.message);
        for frame in self.frames.iter().rev() {
            let _ = write!(
                out,
                "\n    at {} ({}:{}:{})",
                frame.function.as_deref().unwrap_or("<anonymous>"),
                frame.file.as_deref().unwrap_or("<anonymous>"),
                frame.line.unwrap_or(1),
                (frame.line.unwrap_or(1) * 7) % 80 + 3
            );
        }
        out
    }
}

/// Python tracebacks print a code object's plain name (`get`), where Sentry shows the
/// qualified name (`DashboardView.get`).
fn code_name(function: &str) -> &str {
    function.rsplit('.').next().unwrap_or(function)
}

fn python_frame(spec: &FrameSpec, root: &str) -> Frame {
    let mut file = String::with_capacity(root.len() + spec.file.len());
    file.push_str(root);
    file.push_str(spec.file);
    Frame {
        module: Some(spec.module.to_string()),
        function: Some(spec.function.to_string()),
        file: Some(file),
        line: Some(spec.line),
        in_app: spec.in_app,
    }
}

/// A JavaScript frame; bundle frames (`in_app`) are source-mapped to `src/…`.
pub(crate) fn js_frame(file: &str, function: &str, line: u32, in_app: bool) -> Frame {
    let module = file
        .trim_start_matches("webpack:///")
        .trim_start_matches("./")
        .trim_end_matches(".jsx")
        .trim_end_matches(".js")
        .to_string();
    Frame {
        module: Some(module),
        function: Some(function.to_string()),
        file: Some(file.to_string()),
        line: Some(line),
        in_app,
    }
}

// ---------------------------------------------------------------------------------------------
// Django request handling, outermost first.

pub(crate) const DJANGO_REQUEST: &[FrameSpec] = &[
    lib(
        "django.core.handlers.exception",
        "inner",
        "django/core/handlers/exception.py",
        55,
        "response = get_response(request)",
    ),
    lib(
        "django.core.handlers.base",
        "_get_response",
        "django/core/handlers/base.py",
        197,
        "response = wrapped_callback(request, *callback_args, **callback_kwargs)",
    ),
    lib(
        "django.views.decorators.csrf",
        "_view_wrapper",
        "django/views/decorators/csrf.py",
        65,
        "return view_func(request, *args, **kwargs)",
    ),
    lib(
        "django.views.generic.base",
        "view",
        "django/views/generic/base.py",
        104,
        "return self.dispatch(request, *args, **kwargs)",
    ),
    lib(
        "rest_framework.views",
        "dispatch",
        "rest_framework/views.py",
        509,
        "response = self.handle_exception(exc)",
    ),
    lib(
        "rest_framework.views",
        "handle_exception",
        "rest_framework/views.py",
        469,
        "self.raise_uncaught_exception(exc)",
    ),
    lib(
        "rest_framework.views",
        "raise_uncaught_exception",
        "rest_framework/views.py",
        480,
        "raise exc",
    ),
    lib(
        "rest_framework.views",
        "dispatch",
        "rest_framework/views.py",
        506,
        "response = handler(request, *args, **kwargs)",
    ),
];

/// Request handling up to the middleware that loads the session (where cache errors surface).
pub(crate) const DJANGO_MIDDLEWARE: &[FrameSpec] = &[
    lib(
        "django.core.handlers.exception",
        "inner",
        "django/core/handlers/exception.py",
        55,
        "response = get_response(request)",
    ),
    lib(
        "django.utils.deprecation",
        "__call__",
        "django/utils/deprecation.py",
        133,
        "response = self.process_request(request)",
    ),
    app(
        "core.middleware",
        "LastSeenMiddleware.process_request",
        "core/middleware.py",
        38,
        "if request.user.is_authenticated:",
    ),
    lib(
        "django.utils.functional",
        "inner",
        "django/utils/functional.py",
        251,
        "self._setup()",
    ),
    lib(
        "django.contrib.auth.middleware",
        "get_user",
        "django/contrib/auth/middleware.py",
        25,
        "request._cached_user = auth.get_user(request)",
    ),
    lib(
        "django.contrib.auth",
        "get_user",
        "django/contrib/auth/__init__.py",
        197,
        "user_id = _get_user_session_key(request)",
    ),
    lib(
        "django.contrib.sessions.backends.base",
        "_get_session",
        "django/contrib/sessions/backends/base.py",
        243,
        "self._session_cache = self.load()",
    ),
    lib(
        "django.contrib.sessions.backends.cache",
        "load",
        "django/contrib/sessions/backends/cache.py",
        29,
        "session_data = self._cache.get(self.cache_key)",
    ),
];

/// Celery's task tracer, outermost first.
pub(crate) const CELERY_TASK: &[FrameSpec] = &[
    lib(
        "celery.app.trace",
        "trace_task",
        "celery/app/trace.py",
        477,
        "R = retval = fun(*args, **kwargs)",
    ),
    lib(
        "celery.app.trace",
        "__protected_call__",
        "celery/app/trace.py",
        760,
        "return self.run(*args, **kwargs)",
    ),
];

// ---------------------------------------------------------------------------------------------
// Library tails: from the app's call down to where the library raises.

pub(crate) const DB_QUERY: &[FrameSpec] = &[
    lib(
        "django.db.models.query",
        "__iter__",
        "django/db/models/query.py",
        398,
        "self._fetch_all()",
    ),
    lib(
        "django.db.models.query",
        "_fetch_all",
        "django/db/models/query.py",
        1928,
        "self._result_cache = list(self._iterable_class(self))",
    ),
    lib(
        "django.db.models.sql.compiler",
        "execute_sql",
        "django/db/models/sql/compiler.py",
        1562,
        "cursor.execute(sql, params)",
    ),
    lib(
        "django.db.backends.utils",
        "execute",
        "django/db/backends/utils.py",
        79,
        "return self._execute_with_wrappers(",
    ),
    lib(
        "django.db.backends.utils",
        "_execute_with_wrappers",
        "django/db/backends/utils.py",
        92,
        "return executor(sql, params, many, context)",
    ),
    lib(
        "django.db.backends.utils",
        "_execute",
        "django/db/backends/utils.py",
        100,
        "with self.db.wrap_database_errors:",
    ),
    lib(
        "django.db.utils",
        "__exit__",
        "django/db/utils.py",
        91,
        "raise dj_exc_value.with_traceback(traceback) from exc_value",
    ),
    lib(
        "django.db.backends.utils",
        "_execute",
        "django/db/backends/utils.py",
        105,
        "return self.cursor.execute(sql, params)",
    ),
];

pub(crate) const DB_CONNECT: &[FrameSpec] = &[
    lib(
        "django.db.models.sql.compiler",
        "execute_sql",
        "django/db/models/sql/compiler.py",
        1560,
        "cursor = self.connection.cursor()",
    ),
    lib(
        "django.db.backends.base.base",
        "cursor",
        "django/db/backends/base/base.py",
        316,
        "return self._cursor()",
    ),
    lib(
        "django.db.backends.base.base",
        "_cursor",
        "django/db/backends/base/base.py",
        292,
        "self.ensure_connection()",
    ),
    lib(
        "django.db.backends.base.base",
        "ensure_connection",
        "django/db/backends/base/base.py",
        275,
        "self.connect()",
    ),
    lib(
        "django.db.backends.base.base",
        "connect",
        "django/db/backends/base/base.py",
        256,
        "self.connection = self.get_new_connection(conn_params)",
    ),
    lib(
        "django.db.backends.postgresql.base",
        "get_new_connection",
        "django/db/backends/postgresql/base.py",
        275,
        "connection = self.Database.connect(**conn_params)",
    ),
    lib(
        "psycopg2",
        "connect",
        "psycopg2/__init__.py",
        122,
        "conn = _connect(dsn, connection_factory=connection_factory, **kwasync)",
    ),
];

pub(crate) const REDIS_GET: &[FrameSpec] = &[
    lib(
        "django_redis.cache",
        "_decorator",
        "django_redis/cache.py",
        29,
        "return method(self, *args, **kwargs)",
    ),
    lib(
        "django_redis.client.default",
        "get",
        "django_redis/client/default.py",
        258,
        "value = client.get(key)",
    ),
    lib(
        "redis.commands.core",
        "get",
        "redis/commands/core.py",
        1829,
        "return self.execute_command(\"GET\", name)",
    ),
    lib(
        "redis.client",
        "execute_command",
        "redis/client.py",
        533,
        "conn = self.connection or pool.get_connection(command_name, **options)",
    ),
    lib(
        "redis.connection",
        "get_connection",
        "redis/connection.py",
        1086,
        "connection.connect()",
    ),
    lib(
        "redis.connection",
        "connect",
        "redis/connection.py",
        283,
        "raise ConnectionError(self._error_message(e))",
    ),
];

pub(crate) const REDIS_READ: &[FrameSpec] = &[
    lib(
        "django_redis.client.default",
        "get",
        "django_redis/client/default.py",
        258,
        "value = client.get(key)",
    ),
    lib(
        "redis.client",
        "execute_command",
        "redis/client.py",
        536,
        "return conn.retry.call_with_retry(",
    ),
    lib(
        "redis.client",
        "_send_command_parse_response",
        "redis/client.py",
        510,
        "return self.parse_response(conn, command_name, **options)",
    ),
    lib(
        "redis.connection",
        "read_response",
        "redis/connection.py",
        500,
        "response = self._parser.read_response(disable_decoding=disable_decoding)",
    ),
    lib(
        "redis._parsers.socket",
        "_read_from_socket",
        "redis/_parsers/socket.py",
        78,
        "raise TimeoutError(\"Timeout reading from socket\")",
    ),
];

pub(crate) const BOTO_CALL: &[FrameSpec] = &[
    lib(
        "botocore.client",
        "_api_call",
        "botocore/client.py",
        565,
        "return self._make_api_call(operation_name, kwargs)",
    ),
    lib(
        "botocore.client",
        "_make_api_call",
        "botocore/client.py",
        1021,
        "raise error_class(parsed_response, operation_name)",
    ),
];

pub(crate) const KOMBU_PUBLISH: &[FrameSpec] = &[
    lib(
        "celery.app.task",
        "delay",
        "celery/app/task.py",
        444,
        "return self.apply_async(args, kwargs)",
    ),
    lib(
        "celery.app.task",
        "apply_async",
        "celery/app/task.py",
        594,
        "return app.send_task(",
    ),
    lib(
        "celery.app.base",
        "send_task",
        "celery/app/base.py",
        801,
        "amqp.send_task_message(P, name, message, **options)",
    ),
    lib(
        "kombu.connection",
        "_ensure_connection",
        "kombu/connection.py",
        476,
        "return retry_over_time(",
    ),
    lib(
        "kombu.connection",
        "_reraise_as_library_errors",
        "kombu/connection.py",
        450,
        "raise ConnectionError(str(exc)) from exc",
    ),
];

pub(crate) const STRIPE_CALL: &[FrameSpec] = &[
    lib(
        "stripe.api_resources.abstract.createable_api_resource",
        "create",
        "stripe/api_resources/abstract/createable_api_resource.py",
        22,
        "response, api_key = requestor.request(\"post\", url, params, headers)",
    ),
    lib(
        "stripe.api_requestor",
        "request",
        "stripe/api_requestor.py",
        122,
        "rbody, rcode, rheaders, my_api_key = self.request_raw(",
    ),
    lib(
        "stripe.api_requestor",
        "request_raw",
        "stripe/api_requestor.py",
        380,
        "rcontent, rcode, rheaders = self._client.request_with_retries(",
    ),
    lib(
        "stripe.http_client",
        "_handle_request_error",
        "stripe/http_client.py",
        431,
        "raise error.APIConnectionError(msg, should_retry=should_retry)",
    ),
];

pub(crate) const REQUESTS_POST: &[FrameSpec] = &[
    lib(
        "requests.api",
        "post",
        "requests/api.py",
        115,
        "return request(\"post\", url, data=data, json=json, **kwargs)",
    ),
    lib(
        "requests.sessions",
        "request",
        "requests/sessions.py",
        589,
        "resp = self.send(prep, **send_kwargs)",
    ),
    lib(
        "requests.sessions",
        "send",
        "requests/sessions.py",
        703,
        "r = adapter.send(request, **kwargs)",
    ),
    lib(
        "requests.adapters",
        "send",
        "requests/adapters.py",
        519,
        "raise ConnectionError(e, request=request)",
    ),
];

pub(crate) const SENDGRID_SEND: &[FrameSpec] = &[
    lib(
        "sendgrid.base_interface",
        "send",
        "sendgrid/base_interface.py",
        62,
        "return self.client.mail.send.post(request_body=message)",
    ),
    lib(
        "python_http_client.client",
        "http_request",
        "python_http_client/client.py",
        277,
        "self._make_request(opener, request, timeout=timeout)",
    ),
    lib(
        "python_http_client.client",
        "_make_request",
        "python_http_client/client.py",
        184,
        "raise exc",
    ),
];

// ---------------------------------------------------------------------------------------------
// Browser (frontend) stacks.

/// Frames of a React render crash in the app bundle.
pub(crate) fn react_render_frames(component: &str, file: &str, line: u32) -> Vec<Frame> {
    vec![
        js_frame(
            "webpack:///./node_modules/react-dom/cjs/react-dom.production.min.js",
            "performSyncWorkOnRoot",
            267,
            false,
        ),
        js_frame(
            "webpack:///./node_modules/react-dom/cjs/react-dom.production.min.js",
            "beginWork",
            189,
            false,
        ),
        js_frame(
            "webpack:///./node_modules/react-dom/cjs/react-dom.production.min.js",
            "renderWithHooks",
            160,
            false,
        ),
        js_frame(file, component, line, true),
        js_frame(file, "Array.map", line + 3, true),
    ]
}

/// Frames of webpack's chunk loader rejecting a lazy import.
pub(crate) fn chunk_load_frames(domain: &str, bundle_hash: &str, caller: &str) -> Vec<Frame> {
    let runtime = format!("https://{domain}/static/js/runtime-main.{bundle_hash}.js");
    vec![
        js_frame(
            &format!("webpack:///./src/routes/{caller}.jsx"),
            &format!("{caller}.lazy"),
            12,
            true,
        ),
        js_frame(&runtime, "__webpack_require__.e", 1, false),
        js_frame(&runtime, "__webpack_require__.f.j", 1, false),
        js_frame(&runtime, "HTMLScriptElement.onScriptComplete", 1, false),
    ]
}

/// Frames of an axios request that failed (network error or error status).
pub(crate) fn axios_frames(api_function: &str) -> Vec<Frame> {
    vec![
        js_frame("webpack:///./src/api/client.js", api_function, 57, true),
        js_frame(
            "webpack:///./node_modules/axios/lib/adapters/xhr.js",
            "XMLHttpRequest.onloadend",
            124,
            false,
        ),
        js_frame(
            "webpack:///./node_modules/axios/lib/core/settle.js",
            "settle",
            19,
            false,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn python_traceback_lists_frames_then_exception() {
        let mut rng = Rng::new("t", 1, "world");
        let world = World::sample(&mut rng);
        let exception = Exception::python(
            &world,
            "psycopg2.OperationalError",
            "could not connect to server: Connection refused".to_string(),
            &[DJANGO_REQUEST, DB_CONNECT],
        );
        let text = exception.traceback();
        assert!(
            text.starts_with("Traceback (most recent call last):\n  File \"/usr/local/lib/python")
        );
        assert!(text.ends_with(
            "psycopg2.OperationalError: could not connect to server: Connection refused"
        ));
        assert_eq!(
            exception.frames.len(),
            DJANGO_REQUEST.len() + DB_CONNECT.len()
        );
        assert_eq!(exception.short_type(), "OperationalError");
    }

    #[test]
    fn culprit_is_innermost_app_frame() {
        let mut rng = Rng::new("t", 1, "world");
        let world = World::sample(&mut rng);
        let exception = Exception::python(
            &world,
            "redis.exceptions.ConnectionError",
            "Error 111".to_string(),
            &[DJANGO_MIDDLEWARE, REDIS_GET],
        );
        assert_eq!(
            exception.culprit(),
            "core.middleware in LastSeenMiddleware.process_request"
        );
    }
}
