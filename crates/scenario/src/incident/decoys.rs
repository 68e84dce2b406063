//! Things that happen shortly before a failure without causing it: a routine deploy, a brand
//! new but harmless error. They tempt a ranking that trusts "newest" or "just deployed".

use faultline_model::{Layer, Level};

use super::Timeline;
use crate::clock;
use crate::normal::releases::{Deployable, ReleasePlan, Releases};
use crate::output::{Label, Role};
use crate::rng::Rng;
use crate::sink::Sink;
use crate::stack::{self, DJANGO_REQUEST, Exception, app};
use crate::vendors::{self, Correlation, Origin, SentryDetails};
use crate::world::World;

/// The decoy of a failure day, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decoy {
    None,
    Deploy(Deployable),
    NewError(DecoyError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DecoyError {
    BadQueryParam,
    MissingUtm,
    ProgressBar,
}

impl Decoy {
    /// Half of the failure days get a decoy; never one that would be the failure's own trigger.
    pub(crate) fn draw(rng: &mut Rng, root_layer: Layer) -> Decoy {
        if !rng.chance(0.5) {
            return Decoy::None;
        }
        if rng.chance(0.5) {
            let target = match root_layer {
                Layer::App | Layer::Proxy | Layer::Database => Deployable::Frontend,
                Layer::Frontend => Deployable::Backend,
                _ if rng.chance(0.6) => Deployable::Backend,
                _ => Deployable::Frontend,
            };
            return Decoy::Deploy(target);
        }
        let error = rng.choose(&[
            DecoyError::BadQueryParam,
            DecoyError::MissingUtm,
            DecoyError::ProgressBar,
        ]);
        Decoy::NewError(error)
    }

    pub(crate) fn plan(&self, timeline: &Timeline, rng: &mut Rng, plan: &mut ReleasePlan) {
        if let Decoy::Deploy(target) = self {
            let at = timeline.after_onset(-rng.float(60.0, 420.0));
            plan.push(at, *target, Role::Decoy);
        }
    }

    /// Emits the decoy error's few occurrences in the minutes before onset.
    pub(crate) fn emit(
        &self,
        world: &World,
        releases: &Releases,
        timeline: &Timeline,
        sink: &mut Sink,
        rng: &mut Rng,
    ) {
        let Decoy::NewError(error) = self else {
            return;
        };
        let count = rng.int(2, 5);
        for _ in 0..count {
            let ts = timeline.after_onset(-rng.float(20.0, 480.0));
            emit_error(world, releases, sink, rng, *error, ts);
        }
    }
}

fn emit_error(
    world: &World,
    releases: &Releases,
    sink: &mut Sink,
    rng: &mut Rng,
    error: DecoyError,
    ts: faultline_model::Timestamp,
) {
    let backend = releases.backend_at(ts);
    let frontend = releases.frontend_at(ts);
    let pod = &backend.web_pods[rng.index(backend.web_pods.len())].name;
    let (exception, origin, transaction, layer) = match error {
        DecoyError::BadQueryParam => (
            Exception::python(
                world,
                "ValueError",
                "invalid literal for int() with base 10: 'undefined'".to_string(),
                &[
                    DJANGO_REQUEST,
                    &[app(
                        "missions.api",
                        "ScreenDetailView.get",
                        "missions/api.py",
                        158,
                        "number = int(request.GET.get(\"screen\", 1))",
                    )],
                ],
            ),
            Origin {
                service: world.names.web,
                host: pod,
                release: Some(&backend.version),
            },
            "GET /api/v1/missions/<int:mission_id>/screens/<int:number>/",
            Layer::App,
        ),
        DecoyError::MissingUtm => (
            Exception::python(
                world,
                "KeyError",
                "'utm_campaign'".to_string(),
                &[
                    stack::DJANGO_MIDDLEWARE[..2].as_ref(),
                    &[app(
                        "marketing.middleware",
                        "AttributionMiddleware.process_request",
                        "marketing/middleware.py",
                        27,
                        "campaign = request.session[\"utm\"][\"utm_campaign\"]",
                    )],
                ],
            ),
            Origin {
                service: world.names.web,
                host: pod,
                release: Some(&backend.version),
            },
            "GET landing.views.HomeView",
            Layer::App,
        ),
        DecoyError::ProgressBar => (
            Exception::javascript(
                "TypeError",
                "e.toFixed is not a function".to_string(),
                stack::react_render_frames(
                    "ProgressBar",
                    "webpack:///./src/components/ProgressBar.jsx",
                    23,
                ),
            ),
            Origin {
                service: world.names.frontend,
                host: "",
                release: Some(&frontend.version),
            },
            "/dashboard",
            Layer::Frontend,
        ),
    };
    let url = world.url(if layer == Layer::Frontend {
        "/dashboard"
    } else {
        "/"
    });
    let user = world.user(rng).to_string();
    let trace = rng.hex(32);
    let correlation = Correlation {
        trace_id: Some(&trace),
        user: Some(&user),
        url: Some(&url),
        ..Correlation::default()
    };
    let details = SentryDetails {
        transaction,
        handled: false,
        level: Level::Error,
        logger: None,
    };
    let ts = clock::plus_secs(ts, 0.0);
    let event = vendors::sentry_error(ts, rng, origin, correlation, &exception, &details);
    sink.push(event, Label::new(layer, Role::Decoy));
}
