//! The committed schema files must match the Rust types. Regenerate them with
//! `UPDATE_SCHEMAS=1 cargo test -p faultline-model --test schemas`.

use std::path::PathBuf;

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

fn check_committed(file: &str, generated: &str) {
    let path = schemas_dir().join(file);
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, generated).expect("write schema file");
        return;
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    assert!(
        committed == generated,
        "{} is stale: regenerate it with UPDATE_SCHEMAS=1 cargo test -p faultline-model --test schemas",
        path.display()
    );
}

#[test]
fn event_json_schema_is_current() {
    let schema = faultline_model::event_json_schema();
    let text = serde_json::to_string_pretty(&schema).expect("serialize") + "\n";
    check_committed("event.schema.json", &text);
}

#[test]
fn incident_json_schema_is_current() {
    let schema = faultline_model::incident_json_schema();
    let text = serde_json::to_string_pretty(&schema).expect("serialize") + "\n";
    check_committed("incident.schema.json", &text);
}

#[test]
fn event_arrow_schema_text_is_current() {
    check_committed("event.arrow.txt", &faultline_model::arrow::schema_as_text());
}

#[test]
fn json_schema_requires_ts_and_lists_layers() {
    let schema = faultline_model::event_json_schema();
    let required = schema["required"].as_array().expect("required list");
    assert!(required.iter().any(|field| field == "ts"));
    let text = schema.to_string();
    for layer in faultline_model::Layer::ALL {
        assert!(
            text.contains(&format!("\"{layer}\"")),
            "layer {layer} missing"
        );
    }
}
