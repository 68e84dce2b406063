//! Lifecycle transitions from a sequence of reports, and restarts from the state file.

mod common;

use std::time::Duration;

use common::{at, incident, report};
use faultline_model::Layer;
use faultline_sinks::{Lifecycle, TransitionKind};

const QUIET: Duration = Duration::from_secs(15 * 60);

fn kinds(transitions: &[faultline_sinks::Transition]) -> Vec<(String, TransitionKind, u32)> {
    transitions
        .iter()
        .map(|t| (t.idempotency_key.clone(), t.kind, t.version))
        .collect()
}

#[test]
fn open_update_resolve_each_once_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("lifecycle.json");
    let mut lifecycle = Lifecycle::open(&state, QUIET).unwrap();
    let one = [Layer::Database];
    let two = [Layer::Database, Layer::App];

    let opened = lifecycle
        .observe(&report(at(0), vec![incident("inc-a", &one, 10, 0)]), at(0))
        .unwrap();
    assert_eq!(
        kinds(&opened),
        [("inc-a:1".to_string(), TransitionKind::Opened, 1)]
    );

    // More events in the same power-of-two bucket of findings and a score wiggle: signal, no update.
    let quiet = lifecycle
        .observe(&report(at(1), vec![incident("inc-a", &one, 14, 0)]), at(1))
        .unwrap();
    assert!(quiet.is_empty(), "{quiet:?}");

    // A new layer and the first reports are material.
    let updated = lifecycle
        .observe(&report(at(2), vec![incident("inc-a", &two, 20, 3)]), at(2))
        .unwrap();
    assert_eq!(
        kinds(&updated),
        [("inc-a:2".to_string(), TransitionKind::Updated, 2)]
    );
    assert_eq!(updated[0].incident.layers.len(), 2);

    // A restart re-reading the same report sends nothing again.
    drop(lifecycle);
    let mut lifecycle = Lifecycle::open(&state, QUIET).unwrap();
    let again = lifecycle
        .observe(&report(at(2), vec![incident("inc-a", &two, 20, 3)]), at(2))
        .unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(lifecycle.open_incidents().len(), 1);

    // Still in the window with the same counts: no signal; 15 minutes after the last one, resolved.
    let same = report(at(10), vec![incident("inc-a", &two, 20, 3)]);
    assert!(lifecycle.observe(&same, at(10)).unwrap().is_empty());
    assert!(lifecycle.observe(&same, at(16)).unwrap().is_empty());
    let resolved = lifecycle.observe(&same, at(17)).unwrap();
    assert_eq!(
        kinds(&resolved),
        [("inc-a:3".to_string(), TransitionKind::Resolved, 3)]
    );
    assert_eq!(
        resolved[0].duration(),
        Duration::from_secs(4 * 60),
        "onset at -2m, last signal at +2m"
    );
    assert!(lifecycle.open_incidents().is_empty());

    // After a restart, the resolution is not repeated, and a shrinking window does not reopen.
    drop(lifecycle);
    let mut lifecycle = Lifecycle::open(&state, QUIET).unwrap();
    assert!(lifecycle.observe(&same, at(20)).unwrap().is_empty());
    let shrinking = report(at(21), vec![incident("inc-a", &two, 12, 3)]);
    assert!(lifecycle.observe(&shrinking, at(21)).unwrap().is_empty());

    // New signal after the resolution reopens it with the next version.
    let back = report(at(30), vec![incident("inc-a", &two, 40, 3)]);
    let reopened = lifecycle.observe(&back, at(30)).unwrap();
    assert_eq!(
        kinds(&reopened),
        [("inc-a:4".to_string(), TransitionKind::Opened, 4)]
    );
}

#[test]
fn absent_incidents_resolve_and_several_are_independent() {
    let dir = tempfile::tempdir().unwrap();
    let mut lifecycle = Lifecycle::open(dir.path().join("state.json"), QUIET).unwrap();
    let both = report(
        at(0),
        vec![
            incident("inc-a", &[Layer::App], 5, 0),
            incident("inc-b", &[Layer::Cdn], 5, 0),
        ],
    );
    assert_eq!(lifecycle.observe(&both, at(0)).unwrap().len(), 2);
    let only_b = report(at(10), vec![incident("inc-b", &[Layer::Cdn], 9, 0)]);
    assert!(lifecycle.observe(&only_b, at(10)).unwrap().is_empty());
    let empty = report(at(15), Vec::new());
    let resolved = lifecycle.observe(&empty, at(15)).unwrap();
    assert_eq!(
        kinds(&resolved),
        [("inc-a:2".to_string(), TransitionKind::Resolved, 2)]
    );
    let resolved = lifecycle.observe(&empty, at(25)).unwrap();
    assert_eq!(
        kinds(&resolved),
        [("inc-b:2".to_string(), TransitionKind::Resolved, 2)]
    );
    assert!(lifecycle.observe(&empty, at(60)).unwrap().is_empty());
}

#[test]
fn a_corrupt_state_file_is_an_error_not_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("lifecycle.json");
    std::fs::write(&state, "{not json").unwrap();
    let err = Lifecycle::open(&state, QUIET).unwrap_err();
    assert!(err.to_string().contains("lifecycle.json"), "{err}");
}

#[test]
fn a_shrinking_window_or_a_flapping_layer_is_no_update() {
    let dir = tempfile::tempdir().unwrap();
    let mut lifecycle = Lifecycle::open(dir.path().join("state.json"), QUIET).unwrap();
    let mut step = |minute: i64, layers: &[Layer], events: u64| {
        let report = report(at(minute), vec![incident("inc-a", layers, events, 0)]);
        kinds(&lifecycle.observe(&report, at(minute)).unwrap())
    };
    let db_app = [Layer::Database, Layer::App];
    assert_eq!(step(0, &db_app, 10).len(), 1, "opened");
    assert!(
        step(1, &[Layer::Database], 12).is_empty(),
        "a layer left the window"
    );
    assert!(
        step(2, &db_app, 14).is_empty(),
        "and came back: nothing new"
    );
    let wider = step(3, &[Layer::Database, Layer::App, Layer::Cdn], 16);
    assert_eq!(wider, [("inc-a:2".to_string(), TransitionKind::Updated, 2)]);
}
