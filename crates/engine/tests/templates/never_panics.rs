//! `add` accepts any UTF-8 text.

use faultline_engine::templates::TemplateMiner;
use proptest::prelude::*;

fn check_all(messages: &[String]) {
    let mut miner = TemplateMiner::new();
    for m in messages {
        let id = miner.add(m);
        assert_has_template(&miner, miner.resolve(id));
    }
    // Persisting works for anything learnt.
    let json = serde_json::to_string(&miner.state()).expect("state serializes");
    let state = serde_json::from_str(&json).expect("state deserializes");
    let restored = TemplateMiner::from_state(state);
    assert_eq!(restored.len(), miner.len());
}

fn assert_has_template(miner: &TemplateMiner, id: faultline_engine::templates::TemplateId) {
    assert!(miner.template(id).is_some(), "no template for {id}");
}

/// Words from several scripts, numbers, punctuation and odd whitespace.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z_]{1,12}",
        "[0-9]{1,20}",
        "0x[0-9a-f]{1,16}",
        "[a-z]{1,8}=[a-z0-9]{0,8}",
        "[a-z]{1,8}:[0-9]{1,5}",
        "(/[a-z0-9]{1,6}){1,5}",
        "[\\[\\](){}<>\"'`.,;:!?*=+#@$%^&|~\\\\/-]{1,4}",
        "\\.{2,8}[0-9]?",
        "(日志|错误|ошибка|Fehler|エラー|خطأ|σφάλμα|🔥|é|ß){1,3}",
        Just("<*>".to_owned()),
        any::<String>(),
    ]
}

fn message() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            word(),
            prop_oneof![Just(" "), Just("  "), Just("\t"), Just("\u{a0}"), Just("")],
        ),
        0..40,
    )
    .prop_map(|parts| parts.into_iter().map(|(w, s)| w + s).collect())
}

proptest! {
    // Generating structured text is slow in debug builds; these cases still
    // cover every word kind many times over.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn add_never_panics_on_arbitrary_text(messages in prop::collection::vec(any::<String>(), 1..30)) {
        check_all(&messages);
    }

    #[test]
    fn add_never_panics_on_log_like_text(messages in prop::collection::vec(message(), 1..40)) {
        check_all(&messages);
    }

    #[test]
    fn same_message_gets_same_template(m in message()) {
        let mut miner = TemplateMiner::new();
        let a = miner.add(&m);
        let b = miner.add(&m);
        prop_assert_eq!(miner.resolve(a), miner.resolve(b));
    }
}

#[test]
fn empty_and_blank_lines() {
    check_all(&[
        "".into(),
        " ".into(),
        "\t\t".into(),
        "\n".into(),
        "\r".into(),
    ]);
}

#[test]
fn very_long_lines() {
    let words: String = (0..200_000).map(|i| format!("w{} ", i % 97)).collect();
    let numbers: String = (0..200_000).map(|i| format!("{i} ")).collect();
    let one_token = "x".repeat(3_000_000);
    let dots = ".".repeat(100_000) + "5";
    check_all(&[words.clone(), words, numbers, one_token, dots]);
}
