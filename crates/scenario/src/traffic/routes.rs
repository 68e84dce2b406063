//! The site's HTTP routes: what share of traffic each gets, what it depends on, and the app
//! code that serves it.

use std::fmt::Write as _;

use crate::rng::Rng;
use crate::stack::{FrameSpec, app};

/// What a route is for, which decides who notices when it breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RouteClass {
    Page,
    Api,
    Auth,
    Submit,
    CodeRun,
    CodeStatus,
    Files,
    Payment,
    Webhook,
}

/// Dependencies a route's view touches.
pub(crate) mod deps {
    pub(crate) const CACHE: u8 = 1;
    pub(crate) const DB: u8 = 2;
    pub(crate) const QUEUE: u8 = 4;
    pub(crate) const STORAGE: u8 = 8;
    pub(crate) const EXTERNAL: u8 = 16;
}

/// A third-party API called during a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExternalApi {
    Stripe,
    GitHub,
    SendGrid,
}

impl ExternalApi {
    /// The span service ddtrace gives outgoing calls to this API.
    pub(crate) fn span_service(self) -> &'static str {
        match self {
            ExternalApi::Stripe => "stripe",
            ExternalApi::GitHub => "requests",
            ExternalApi::SendGrid => "sendgrid",
        }
    }

    pub(crate) fn resource(self) -> &'static str {
        match self {
            ExternalApi::Stripe => "POST /v1/payment_intents",
            ExternalApi::GitHub => "POST /login/oauth/access_token",
            ExternalApi::SendGrid => "POST /v3/mail/send",
        }
    }
}

pub(crate) struct Route {
    pub method: &'static str,
    /// Concrete path template: `{id}` becomes a number, `{uuid}` a job id.
    pub path: &'static str,
    /// Datadog's resource name for the view.
    pub resource: &'static str,
    pub class: RouteClass,
    pub weight: f64,
    pub median_ms: f64,
    pub deps: u8,
    pub external: Option<ExternalApi>,
    /// App frames of the view, outermost first.
    pub view: &'static [FrameSpec],
    /// A representative query of the view.
    pub sql: &'static str,
    pub response_bytes: u32,
}

impl Route {
    pub(crate) fn uses(&self, dep: u8) -> bool {
        self.deps & dep != 0
    }

    /// A concrete path for this route.
    pub(crate) fn concrete_path(&self, rng: &mut Rng) -> String {
        let mut out = String::with_capacity(self.path.len() + 24);
        let mut rest = self.path;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            match &rest[open + 1..open + close] {
                "uuid" => out.push_str(&rng.uuid4()),
                "n" => {
                    let _ = write!(out, "{}", rng.int(1, 14));
                }
                _ => {
                    let _ = write!(out, "{}", rng.int(1, 4200));
                }
            }
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        out
    }
}

use deps::{CACHE, DB, EXTERNAL, QUEUE, STORAGE};

pub(crate) const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/",
        resource: "GET landing.views.HomeView",
        class: RouteClass::Page,
        weight: 6.0,
        median_ms: 45.0,
        deps: CACHE,
        external: None,
        view: &[app(
            "landing.views",
            "HomeView.get",
            "landing/views.py",
            31,
            "context = self.get_context_data(**kwargs)",
        )],
        sql: "",
        response_bytes: 38_000,
    },
    Route {
        method: "GET",
        path: "/dashboard",
        resource: "GET dashboard.views.DashboardView",
        class: RouteClass::Page,
        weight: 10.0,
        median_ms: 120.0,
        deps: CACHE | DB,
        external: None,
        view: &[
            app(
                "dashboard.views",
                "DashboardView.get",
                "dashboard/views.py",
                88,
                "progress = load_dashboard(request.user)",
            ),
            app(
                "dashboard.services",
                "load_dashboard",
                "dashboard/services.py",
                41,
                "missions = list(Mission.objects.for_user(user))",
            ),
        ],
        sql: "SELECT \"missions_mission\".\"id\", \"missions_mission\".\"title\" FROM \"missions_mission\" INNER JOIN \"progress_missionprogress\" ON (...) WHERE \"progress_missionprogress\".\"user_id\" = %s",
        response_bytes: 42_000,
    },
    Route {
        method: "GET",
        path: "/api/v1/users/me/",
        resource: "GET /api/v1/users/me/",
        class: RouteClass::Api,
        weight: 14.0,
        median_ms: 35.0,
        deps: CACHE | DB,
        external: None,
        view: &[app(
            "accounts.api",
            "MeView.get",
            "accounts/api.py",
            57,
            "serializer = UserSerializer(request.user.profile)",
        )],
        sql: "SELECT \"accounts_profile\".\"id\", \"accounts_profile\".\"plan\" FROM \"accounts_profile\" WHERE \"accounts_profile\".\"user_id\" = %s LIMIT 21",
        response_bytes: 1_900,
    },
    Route {
        method: "GET",
        path: "/api/v1/missions/{id}/",
        resource: "GET /api/v1/missions/<int:mission_id>/",
        class: RouteClass::Api,
        weight: 12.0,
        median_ms: 80.0,
        deps: CACHE | DB,
        external: None,
        view: &[
            app(
                "missions.api",
                "MissionDetailView.get",
                "missions/api.py",
                112,
                "mission = self.get_object()",
            ),
            app(
                "missions.selectors",
                "mission_with_screens",
                "missions/selectors.py",
                23,
                "return Mission.objects.prefetch_related(\"screens\").get(pk=pk)",
            ),
        ],
        sql: "SELECT \"missions_screen\".\"id\", \"missions_screen\".\"body\" FROM \"missions_screen\" WHERE \"missions_screen\".\"mission_id\" IN (%s)",
        response_bytes: 14_500,
    },
    Route {
        method: "GET",
        path: "/api/v1/missions/{id}/screens/{n}/",
        resource: "GET /api/v1/missions/<int:mission_id>/screens/<int:number>/",
        class: RouteClass::Api,
        weight: 14.0,
        median_ms: 60.0,
        deps: CACHE | DB,
        external: None,
        view: &[app(
            "missions.api",
            "ScreenDetailView.get",
            "missions/api.py",
            164,
            "screen = get_object_or_404(Screen, mission_id=mission_id, number=number)",
        )],
        sql: "SELECT \"missions_screen\".\"id\", \"missions_screen\".\"body\" FROM \"missions_screen\" WHERE (\"missions_screen\".\"mission_id\" = %s AND \"missions_screen\".\"number\" = %s) LIMIT 21",
        response_bytes: 6_200,
    },
    Route {
        method: "POST",
        path: "/api/v1/progress/",
        resource: "POST /api/v1/progress/",
        class: RouteClass::Submit,
        weight: 8.0,
        median_ms: 90.0,
        deps: CACHE | DB | QUEUE,
        external: None,
        view: &[
            app(
                "progress.api",
                "ProgressView.post",
                "progress/api.py",
                71,
                "record_progress(request.user, serializer.validated_data)",
            ),
            app(
                "progress.services",
                "record_progress",
                "progress/services.py",
                48,
                "update_streak.delay(user.id)",
            ),
        ],
        sql: "UPDATE \"progress_screenprogress\" SET \"completed\" = %s, \"updated_at\" = %s WHERE \"progress_screenprogress\".\"id\" = %s",
        response_bytes: 240,
    },
    Route {
        method: "POST",
        path: "/api/v1/auth/login/",
        resource: "POST /api/v1/auth/login/",
        class: RouteClass::Auth,
        weight: 2.0,
        median_ms: 220.0,
        deps: CACHE | DB,
        external: None,
        view: &[
            app(
                "accounts.api",
                "LoginView.post",
                "accounts/api.py",
                132,
                "user = authenticate(request, email=email, password=password)",
            ),
            app(
                "accounts.backends",
                "EmailBackend.authenticate",
                "accounts/backends.py",
                19,
                "user = User.objects.get(email__iexact=email)",
            ),
        ],
        sql: "SELECT \"auth_user\".\"id\", \"auth_user\".\"password\" FROM \"auth_user\" WHERE UPPER(\"auth_user\".\"email\"::text) = UPPER(%s) LIMIT 21",
        response_bytes: 610,
    },
    Route {
        method: "POST",
        path: "/api/v1/code/run/",
        resource: "POST /api/v1/code/run/",
        class: RouteClass::CodeRun,
        weight: 7.0,
        median_ms: 70.0,
        deps: CACHE | DB | QUEUE,
        external: None,
        view: &[
            app(
                "runner.api",
                "RunCodeView.post",
                "runner/api.py",
                44,
                "job = enqueue_run(request.user, serializer.validated_data)",
            ),
            app(
                "runner.services",
                "enqueue_run",
                "runner/services.py",
                29,
                "execute_code.delay(job.id)",
            ),
        ],
        sql: "INSERT INTO \"runner_job\" (\"user_id\", \"screen_id\", \"status\", \"created_at\") VALUES (%s, %s, %s, %s) RETURNING \"runner_job\".\"id\"",
        response_bytes: 180,
    },
    Route {
        method: "GET",
        path: "/api/v1/code/jobs/{uuid}/",
        resource: "GET /api/v1/code/jobs/<uuid:job_id>/",
        class: RouteClass::CodeStatus,
        weight: 12.0,
        median_ms: 25.0,
        deps: CACHE | DB,
        external: None,
        view: &[app(
            "runner.api",
            "JobStatusView.get",
            "runner/api.py",
            78,
            "job = Job.objects.only(\"status\", \"output\").get(pk=job_id)",
        )],
        sql: "SELECT \"runner_job\".\"id\", \"runner_job\".\"status\", \"runner_job\".\"output\" FROM \"runner_job\" WHERE \"runner_job\".\"id\" = %s LIMIT 21",
        response_bytes: 900,
    },
    Route {
        method: "GET",
        path: "/api/v1/notifications/",
        resource: "GET /api/v1/notifications/",
        class: RouteClass::Api,
        weight: 6.0,
        median_ms: 40.0,
        deps: CACHE | DB,
        external: None,
        view: &[app(
            "notifications.api",
            "NotificationListView.get",
            "notifications/api.py",
            26,
            "return self.list(request, *args, **kwargs)",
        )],
        sql: "SELECT \"notifications_notification\".\"id\" FROM \"notifications_notification\" WHERE (\"notifications_notification\".\"user_id\" = %s AND NOT \"notifications_notification\".\"read\") ORDER BY \"notifications_notification\".\"created_at\" DESC LIMIT 20",
        response_bytes: 1_200,
    },
    Route {
        method: "GET",
        path: "/api/v1/projects/{id}/files/",
        resource: "GET /api/v1/projects/<int:project_id>/files/",
        class: RouteClass::Files,
        weight: 3.0,
        median_ms: 180.0,
        deps: CACHE | DB | STORAGE,
        external: None,
        view: &[
            app(
                "projects.api",
                "ProjectFilesView.get",
                "projects/api.py",
                93,
                "files = storage.list_files(project)",
            ),
            app(
                "projects.storage",
                "list_files",
                "projects/storage.py",
                37,
                "obj = s3.get_object(Bucket=settings.PROJECTS_BUCKET, Key=key)",
            ),
        ],
        sql: "SELECT \"projects_project\".\"id\", \"projects_project\".\"s3_prefix\" FROM \"projects_project\" WHERE \"projects_project\".\"id\" = %s LIMIT 21",
        response_bytes: 22_000,
    },
    Route {
        method: "GET",
        path: "/api/v1/datasets/{id}/download/",
        resource: "GET /api/v1/datasets/<int:dataset_id>/download/",
        class: RouteClass::Files,
        weight: 2.0,
        median_ms: 250.0,
        deps: CACHE | STORAGE,
        external: None,
        view: &[
            app(
                "datasets.api",
                "DatasetDownloadView.get",
                "datasets/api.py",
                41,
                "url = presign_or_stream(dataset)",
            ),
            app(
                "datasets.storage",
                "presign_or_stream",
                "datasets/storage.py",
                58,
                "head = s3.head_object(Bucket=bucket, Key=dataset.key)",
            ),
        ],
        sql: "",
        response_bytes: 350_000,
    },
    Route {
        method: "POST",
        path: "/api/v1/payments/checkout/",
        resource: "POST /api/v1/payments/checkout/",
        class: RouteClass::Payment,
        weight: 0.8,
        median_ms: 650.0,
        deps: CACHE | DB | EXTERNAL,
        external: Some(ExternalApi::Stripe),
        view: &[
            app(
                "billing.api",
                "CheckoutView.post",
                "billing/api.py",
                66,
                "intent = create_payment_intent(request.user, plan)",
            ),
            app(
                "billing.checkout",
                "create_payment_intent",
                "billing/checkout.py",
                34,
                "return stripe.PaymentIntent.create(amount=plan.amount_cents, currency=plan.currency, customer=customer.stripe_id)",
            ),
        ],
        sql: "SELECT \"billing_customer\".\"id\", \"billing_customer\".\"stripe_id\" FROM \"billing_customer\" WHERE \"billing_customer\".\"user_id\" = %s LIMIT 21",
        response_bytes: 420,
    },
    Route {
        method: "POST",
        path: "/api/v1/stripe/webhook/",
        resource: "POST /api/v1/stripe/webhook/",
        class: RouteClass::Webhook,
        weight: 0.6,
        median_ms: 55.0,
        deps: DB,
        external: None,
        view: &[app(
            "billing.webhooks",
            "StripeWebhookView.post",
            "billing/webhooks.py",
            52,
            "handler(event.data.object)",
        )],
        sql: "UPDATE \"billing_subscription\" SET \"status\" = %s WHERE \"billing_subscription\".\"stripe_id\" = %s",
        response_bytes: 2,
    },
    Route {
        method: "GET",
        path: "/accounts/github/login/callback/",
        resource: "GET allauth.socialaccount.providers.oauth2.views.OAuth2CallbackView",
        class: RouteClass::Auth,
        weight: 0.7,
        median_ms: 480.0,
        deps: CACHE | DB | EXTERNAL,
        external: Some(ExternalApi::GitHub),
        view: &[
            app(
                "accounts.github",
                "GitHubCallbackView.get",
                "accounts/github.py",
                47,
                "token = exchange_code(request.GET[\"code\"])",
            ),
            app(
                "accounts.github",
                "exchange_code",
                "accounts/github.py",
                22,
                "resp = requests.post(GITHUB_TOKEN_URL, data=payload, timeout=10)",
            ),
        ],
        sql: "SELECT \"socialaccount_socialaccount\".\"id\" FROM \"socialaccount_socialaccount\" WHERE (\"socialaccount_socialaccount\".\"provider\" = %s AND \"socialaccount_socialaccount\".\"uid\" = %s) LIMIT 21",
        response_bytes: 0,
    },
    Route {
        method: "POST",
        path: "/api/v1/auth/password-reset/",
        resource: "POST /api/v1/auth/password-reset/",
        class: RouteClass::Auth,
        weight: 0.5,
        median_ms: 140.0,
        deps: DB | QUEUE | EXTERNAL,
        external: Some(ExternalApi::SendGrid),
        view: &[
            app(
                "accounts.api",
                "PasswordResetView.post",
                "accounts/api.py",
                188,
                "send_password_reset(user)",
            ),
            app(
                "accounts.emails",
                "send_password_reset",
                "accounts/emails.py",
                31,
                "sg.send(message)",
            ),
        ],
        sql: "SELECT \"auth_user\".\"id\" FROM \"auth_user\" WHERE UPPER(\"auth_user\".\"email\"::text) = UPPER(%s) LIMIT 21",
        response_bytes: 60,
    },
];

/// Cumulative weights of [`ROUTES`], for fast weighted picks.
pub(crate) struct RoutePicker {
    cumulative: Vec<f64>,
}

impl RoutePicker {
    pub(crate) fn new() -> RoutePicker {
        let mut total = 0.0;
        let cumulative = ROUTES
            .iter()
            .map(|route| {
                total += route.weight;
                total
            })
            .collect();
        RoutePicker { cumulative }
    }

    pub(crate) fn pick(&self, rng: &mut Rng) -> &'static Route {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let target = rng.unit() * total;
        let index = self.cumulative.partition_point(|&edge| edge <= target);
        &ROUTES[index.min(ROUTES.len() - 1)]
    }
}

/// The route serving a class, for flows that need a specific one (the code-run pipeline).
pub(crate) fn route_of(class: RouteClass) -> &'static Route {
    ROUTES
        .iter()
        .find(|route| route.class == class)
        .unwrap_or(&ROUTES[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concrete_paths_fill_placeholders() {
        let mut rng = Rng::new("t", 1, "routes");
        for route in ROUTES {
            let path = route.concrete_path(&mut rng);
            assert!(!path.contains('{'), "{path}");
            assert!(path.starts_with('/'));
        }
    }

    #[test]
    fn every_route_has_view_frames() {
        assert!(ROUTES.iter().all(|route| !route.view.is_empty()));
    }
}
