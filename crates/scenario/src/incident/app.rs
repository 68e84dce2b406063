//! Bad deploys: a backend release that raises a new exception in app code, and a frontend
//! release whose bundle breaks in the browser.

use faultline_model::Layer;

use super::fault::{BundleFailure, ErrorSpec, Placement, RequestFault, TaskFault};
use super::{BuildCtx, Incident, Scenario, Timeline};
use crate::monitors::{Monitor, State};
use crate::normal::releases::{Deployable, ReleasePlan};
use crate::output::Role;
use crate::rng::Rng;
use crate::stack::{self, Exception, FrameSpec, app};
use crate::texts::Symptom;

/// The bug a bad backend release ships.
#[derive(Clone, Copy, Debug)]
struct Bug {
    error_type: &'static str,
    message: &'static str,
    tail: &'static [FrameSpec],
    paths: &'static [&'static str],
    symptoms: &'static [Symptom],
}

const BUGS: &[Bug] = &[
    Bug {
        error_type: "AttributeError",
        message: "'NoneType' object has no attribute 'streak_days'",
        tail: &[app(
            "dashboard.services",
            "build_streak",
            "dashboard/services.py",
            77,
            "return profile.streak.streak_days",
        )],
        paths: &["/dashboard"],
        symptoms: &[Symptom::SiteDown, Symptom::BlankPage],
    },
    Bug {
        error_type: "KeyError",
        message: "'screen_id'",
        tail: &[app(
            "progress.serializers",
            "ProgressSerializer.to_internal_value",
            "progress/serializers.py",
            45,
            "screen = data[\"screen_id\"]",
        )],
        paths: &["/api/v1/progress/"],
        symptoms: &[Symptom::ProgressLost],
    },
    Bug {
        error_type: "TypeError",
        message: "serialize_screen() got an unexpected keyword argument 'include_hidden'",
        tail: &[app(
            "missions.serializers",
            "MissionSerializer.get_screens",
            "missions/serializers.py",
            88,
            "return [serialize_screen(s, include_hidden=False) for s in obj.screens.all()]",
        )],
        paths: &[
            "/api/v1/missions/{id}/",
            "/api/v1/missions/{id}/screens/{n}/",
        ],
        symptoms: &[Symptom::SiteDown, Symptom::BlankPage],
    },
    Bug {
        error_type: "django.core.exceptions.FieldError",
        message: "Cannot resolve keyword 'is_archived' into field. Choices are: created_at, id, plan, streak, user, user_id",
        tail: &[
            app(
                "accounts.selectors",
                "active_profile",
                "accounts/selectors.py",
                12,
                "return Profile.objects.get(user=user, is_archived=False)",
            ),
            FrameSpec {
                module: "django.db.models.sql.query",
                function: "names_to_path",
                file: "django/db/models/sql/query.py",
                line: 1768,
                code: "raise FieldError(",
                in_app: false,
            },
        ],
        paths: &["/api/v1/users/me/"],
        symptoms: &[Symptom::CantLogin, Symptom::SiteDown],
    },
];

pub(crate) struct BadDeploy {
    bug: Bug,
}

impl BadDeploy {
    pub(crate) fn draw(rng: &mut Rng) -> BadDeploy {
        BadDeploy {
            bug: rng.choose(BUGS),
        }
    }
}

impl Scenario for BadDeploy {
    fn plan_deploys(&self, timeline: &Timeline, rng: &mut Rng, plan: &mut ReleasePlan) {
        plan.push(
            timeline.after_onset(-rng.float(20.0, 150.0)),
            Deployable::Backend,
            Role::Trigger,
        );
    }

    fn build(&self, ctx: &mut BuildCtx<'_>) -> Incident {
        let error = ErrorSpec {
            error_type: self.bug.error_type.to_string(),
            message: self.bug.message.to_string(),
            tail: self.bug.tail,
            placement: Placement::View,
            layer: Layer::App,
            status: 500,
            wait_ms: 20.0,
        };
        ctx.alert(Monitor::WebErrorRate, (100.0, 300.0), State::Alert);
        if ctx.rng.chance(0.4) {
            ctx.alert(Monitor::ElbFiveXx, (150.0, 360.0), State::Alert);
        }
        let peak = ctx.rng.float(0.5, 1.0);
        let request = RequestFault::App {
            error,
            paths: self.bug.paths.to_vec(),
        };
        let fault = ctx.fault(
            ctx.timeline.onset,
            (20.0, 90.0),
            (peak, peak),
            request,
            TaskFault::None,
        );
        Incident {
            root_layer: Layer::App,
            root_service: ctx.world.names.web.to_string(),
            fault: Some(fault),
            symptoms: self.bug.symptoms.to_vec(),
            report_weight: 1.0,
            deploy_suspect: ctx
                .releases
                .with_role(Role::Trigger)
                .map(|rollout| rollout.version.clone()),
        }
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum FrontendVariant {
    /// Lazy chunks referenced by the new bundle were not uploaded.
    ChunkLoad,
    /// A component renders data of a shape it does not expect.
    RenderTypeError,
    /// The bundle reads a build-time variable that is missing at runtime.
    MissingGlobal,
}

pub(crate) struct Frontend {
    variant: FrontendVariant,
}

impl Frontend {
    pub(crate) fn draw(rng: &mut Rng) -> Frontend {
        let variant = rng.choose(&[
            FrontendVariant::ChunkLoad,
            FrontendVariant::RenderTypeError,
            FrontendVariant::MissingGlobal,
        ]);
        Frontend { variant }
    }
}

impl Scenario for Frontend {
    fn plan_deploys(&self, timeline: &Timeline, rng: &mut Rng, plan: &mut ReleasePlan) {
        plan.push(
            timeline.after_onset(-rng.float(20.0, 240.0)),
            Deployable::Frontend,
            Role::Trigger,
        );
    }

    fn build(&self, ctx: &mut BuildCtx<'_>) -> Incident {
        let world = ctx.world;
        let rollout = ctx.releases.frontend_at(ctx.timeline.onset);
        let hash = rollout.bundle_hash.clone();
        let (bundle, peak) = match self.variant {
            FrontendVariant::ChunkLoad => {
                let chunk = ctx.rng.int(100, 999);
                let path = format!("/static/js/{chunk}.{hash}.chunk.js");
                let message = format!(
                    "Loading chunk {chunk} failed.\n(error: https://{}{path})",
                    world.domain
                );
                let exception = Exception::javascript(
                    "ChunkLoadError",
                    message,
                    stack::chunk_load_frames(world.domain, &hash, "MissionPage"),
                );
                let bundle = BundleFailure {
                    exception,
                    missing_chunk: Some(path),
                    api_drop: 0.6,
                };
                (bundle, ctx.rng.float(0.3, 0.7))
            }
            FrontendVariant::RenderTypeError => {
                let frames = stack::react_render_frames(
                    "MissionList",
                    "webpack:///./src/components/dashboard/MissionList.jsx",
                    42,
                );
                let exception = Exception::javascript(
                    "TypeError",
                    "Cannot read properties of undefined (reading 'map')".to_string(),
                    frames,
                );
                let bundle = BundleFailure {
                    exception,
                    missing_chunk: None,
                    api_drop: 0.5,
                };
                (bundle, ctx.rng.float(0.5, 1.0))
            }
            FrontendVariant::MissingGlobal => {
                let frames = vec![
                    stack::js_frame("webpack:///./src/index.js", "<anonymous>", 9, true),
                    stack::js_frame("webpack:///./src/config.js", "getApiBase", 3, true),
                ];
                let exception = Exception::javascript(
                    "ReferenceError",
                    "process is not defined".to_string(),
                    frames,
                );
                let bundle = BundleFailure {
                    exception,
                    missing_chunk: None,
                    api_drop: 0.9,
                };
                (bundle, ctx.rng.float(0.9, 1.0))
            }
        };
        ctx.alert(Monitor::SyntheticLogin, (60.0, 300.0), State::Alert);
        let fault = ctx.fault(
            ctx.timeline.onset,
            (20.0, 120.0),
            (peak, peak),
            RequestFault::Bundle(bundle),
            TaskFault::None,
        );
        Incident {
            root_layer: Layer::Frontend,
            root_service: world.names.frontend.to_string(),
            fault: Some(fault),
            symptoms: vec![Symptom::BlankPage, Symptom::SiteDown],
            report_weight: 1.0,
            deploy_suspect: ctx
                .releases
                .with_role(Role::Trigger)
                .map(|rollout| rollout.version.clone()),
        }
    }
}
