//! Template ids are stable, aliases resolve, and a persisted and restored
//! miner continues exactly like one that never stopped.

use crate::common::{DATASETS, messages};
use faultline_engine::templates::{MinerState, TemplateId, TemplateMiner};

fn corpus() -> Vec<String> {
    DATASETS.iter().flat_map(|d| messages(d)).collect()
}

fn round_trip(miner: &TemplateMiner) -> TemplateMiner {
    let json = serde_json::to_string(&miner.state()).expect("serialize state");
    let state: MinerState = serde_json::from_str(&json).expect("deserialize state");
    TemplateMiner::from_state(state)
}

#[test]
fn restore_between_halves_matches_a_single_run() {
    let corpus = corpus();
    let mut single = TemplateMiner::new();
    let single_ids: Vec<TemplateId> = corpus.iter().map(|m| single.add(m)).collect();

    for split in [1, corpus.len() / 3, corpus.len() / 2, corpus.len() - 1] {
        let mut first = TemplateMiner::new();
        let mut ids: Vec<TemplateId> = corpus[..split].iter().map(|m| first.add(m)).collect();
        let mut second = round_trip(&first);
        ids.extend(corpus[split..].iter().map(|m| second.add(m)));

        assert_eq!(
            ids, single_ids,
            "ids differ after a restore at line {split}"
        );
        for id in &ids {
            assert_eq!(second.resolve(*id), single.resolve(*id));
            assert_eq!(second.template(*id), single.template(*id));
        }
        assert_eq!(
            second.state(),
            single.state(),
            "state differs after a restore at line {split}"
        );
    }
}

#[test]
fn state_survives_json_unchanged() {
    let mut miner = TemplateMiner::new();
    for m in corpus().iter().take(5000) {
        miner.add(m);
    }
    let restored = round_trip(&miner);
    assert_eq!(restored.state(), miner.state());
    assert_eq!(restored.len(), miner.len());
}

#[test]
fn ids_are_hashes_of_the_template_text_in_any_process() {
    let corpus = corpus();
    let mut forward = TemplateMiner::new();
    for m in &corpus {
        forward.add(m);
    }
    let mut backward = TemplateMiner::new();
    for m in corpus.iter().rev() {
        backward.add(m);
    }
    for (id, text, _) in forward.templates() {
        assert_eq!(id, TemplateId::of(text));
        assert_eq!(format!("{id}").len(), 16);
    }
    // The same template found in another process, in another order, has
    // the same id.
    let common = forward
        .templates()
        .filter(|(id, _, _)| backward.template(*id).is_some())
        .count();
    assert!(
        common * 10 >= forward.len() * 9,
        "only {common} of {} templates shared",
        forward.len()
    );
}

#[test]
fn every_returned_id_resolves_to_a_live_template() {
    let mut miner = TemplateMiner::new();
    let ids: Vec<_> = corpus().iter().map(|m| miner.add(m)).collect();
    let mut aliased = 0;
    for id in ids {
        let current = miner.resolve(id);
        let text = miner.template(current).expect("resolved id has a template");
        assert_eq!(miner.template(id), Some(text));
        assert_eq!(miner.resolve(current), current);
        aliased += usize::from(current != id);
    }
    assert!(aliased > 0, "the corpus should generalize some templates");
}

#[test]
fn generalized_template_keeps_old_id_as_alias() {
    let mut miner = TemplateMiner::new();
    let users = ["alice", "bob", "carol", "dave", "erin", "frank"];
    let ids: Vec<_> = users
        .iter()
        .map(|u| miner.add(&format!("session opened for user {u} by LOGIN")))
        .collect();
    let merged = TemplateId::of("session opened for user <*> by LOGIN");
    assert_ne!(ids[0], merged);
    for id in &ids {
        assert_eq!(miner.resolve(*id), merged);
    }
    assert_eq!(
        miner.template(ids[0]),
        Some("session opened for user <*> by LOGIN")
    );
    // Survives persistence.
    let restored = round_trip(&miner);
    assert_eq!(restored.resolve(ids[0]), merged);
    assert_eq!(
        restored.template(ids[1]),
        Some("session opened for user <*> by LOGIN")
    );
}
