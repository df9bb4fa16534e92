//! The api's OpenAPI document is a contract: any change to it shows up here and must be
//! accepted on purpose, by running with UPDATE_SNAPSHOTS=1 and committing the new file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use service::binary::Service as _;

#[test]
fn openapi_document_matches_the_snapshot() {
    let document = serde_json::to_string_pretty(&api::Api::openapi()).unwrap() + "\n";
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot, &document).unwrap();
    }
    let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
    assert!(
        document == expected,
        "the OpenAPI document changed; if on purpose, run UPDATE_SNAPSHOTS=1 cargo test -p api --test openapi_snapshot"
    );
}
