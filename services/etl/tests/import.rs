//! `etl import` against real databases, with the fixtures under tests/fixtures/import.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use diesel::RunQueryDsl as _;
use etl::import::{ImportError, import};
use testkit::TestDatabase;

fn fixtures(set: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(set)
}

/// A copy of a fixture set in a scratch folder, so reports written beside it stay out of the tree.
fn scratch_copy(set: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("streamlab-import-{}", uuid_like()));
    std::fs::create_dir_all(&folder).unwrap();
    for entry in std::fs::read_dir(fixtures(set)).unwrap().flatten() {
        std::fs::copy(entry.path(), folder.join(entry.file_name())).unwrap();
    }
    folder
}

fn uuid_like() -> String {
    format!(
        "{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

fn count(database: &TestDatabase, table: &str) -> i64 {
    diesel::sql_query(format!("SELECT count(*) AS count FROM {table}"))
        .get_result::<Count>(&mut database.connect())
        .unwrap()
        .count
}

#[test]
fn the_example_set_loads_and_a_second_import_changes_nothing() {
    let database = TestDatabase::migrated();
    let report = import(database.url(), &[fixtures("example")], false).unwrap();
    let loaded: Vec<(&str, u64)> = report
        .tables
        .iter()
        .map(|table| (table.table, table.inserted))
        .collect();
    assert_eq!(
        loaded,
        [
            ("titles", 3),
            ("customers", 4),
            ("subscriptions", 5),
            ("watch_sessions", 4),
            ("events", 3),
            ("conversions", 3)
        ]
    );
    assert!(report.errors.is_empty());

    let again = import(database.url(), &[fixtures("example")], false).unwrap();
    for table in &again.tables {
        assert_eq!((table.inserted, table.updated), (0, 0), "{}", table.table);
        assert!(table.unchanged > 0, "{}", table.table);
    }
    assert_eq!(count(&database, "customers"), 4);
    assert_eq!(count(&database, "watch_sessions"), 4);

    #[derive(diesel::QueryableByName)]
    struct Customer {
        #[diesel(sql_type = diesel::sql_types::Text)]
        email: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        email_consent: bool,
    }
    let bo: Customer =
        diesel::sql_query("SELECT email, email_consent FROM customers WHERE external_id = 'c-2'")
            .get_result(&mut database.connect())
            .unwrap();
    assert_eq!(bo.email, "bo.chen@example.com", "e-mail stored lower-case");
    assert!(!bo.email_consent);
}

#[test]
fn a_changed_row_updates_its_customer_only() {
    let database = TestDatabase::migrated();
    import(database.url(), &[fixtures("example")], false).unwrap();
    let folder = scratch_copy("example");
    let customers = std::fs::read_to_string(folder.join("customers.csv"))
        .unwrap()
        .replace("Toronto", "Ottawa");
    std::fs::write(folder.join("customers.csv"), customers).unwrap();
    let report = import(database.url(), &[folder.join("customers.csv")], false).unwrap();
    assert_eq!(
        (
            report.tables[0].inserted,
            report.tables[0].updated,
            report.tables[0].unchanged
        ),
        (0, 1, 3)
    );
}

#[test]
fn a_broken_file_is_rejected_naming_each_bad_line_and_nothing_is_loaded() {
    let database = TestDatabase::migrated();
    let error = import(database.url(), &[fixtures("broken")], false).unwrap_err();
    let ImportError::Rejected(report) = &error else {
        panic!("{error}")
    };
    let found: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        found,
        [
            "customers.csv line 7: email 'six-at-example.com' is not an e-mail address",
            "customers.csv line 8: signup_at '07/01/2025' is not a date-time (use 2026-03-31T14:00:00Z, 2026-03-31 14:00:00 or 2026-03-31)",
            "watch_sessions.csv line 3: customer 'nobody@example.com' is not a known customer",
        ]
    );
    assert!(
        error
            .to_string()
            .starts_with("3 bad row(s); nothing was loaded:"),
        "{error}"
    );
    for table in ["customers", "titles", "watch_sessions"] {
        assert_eq!(count(&database, table), 0, "{table}");
    }
}

#[test]
fn skip_invalid_loads_the_good_rows_and_writes_the_report_beside_the_input() {
    let database = TestDatabase::migrated();
    let folder = scratch_copy("broken");
    let report = import(database.url(), std::slice::from_ref(&folder), true).unwrap();
    assert_eq!(count(&database, "customers"), 6);
    assert_eq!(count(&database, "watch_sessions"), 1);
    assert_eq!(
        report.report_files,
        [
            folder.join("customers.errors.csv"),
            folder.join("watch_sessions.errors.csv")
        ]
    );
    let customers_report = std::fs::read_to_string(folder.join("customers.errors.csv")).unwrap();
    assert_eq!(
        customers_report.lines().collect::<Vec<_>>(),
        [
            "line,column,reason",
            "7,email,'six-at-example.com' is not an e-mail address",
            "8,signup_at,\"'07/01/2025' is not a date-time (use 2026-03-31T14:00:00Z, 2026-03-31 14:00:00 or 2026-03-31)\"",
        ]
    );
    std::fs::remove_dir_all(folder).unwrap();
}

#[test]
fn wrong_headers_and_encodings_are_one_clear_message() {
    let database = TestDatabase::migrated();
    let folder = scratch_copy("example");
    std::fs::write(
        folder.join("customers.csv"),
        "mail,first_name,last_name\nx@y.z,A,B\n",
    )
    .unwrap();
    let error = import(database.url(), &[folder.join("customers.csv")], false).unwrap_err();
    assert!(
        error.to_string().starts_with("customers.csv: the header lacks the required column 'email' (columns: external_id, email,"),
        "{error}"
    );
    std::fs::write(
        folder.join("customers.csv"),
        b"email,first_name,last_name\nx@y.z,Ren\xe9,B\n",
    )
    .unwrap();
    let error = import(database.url(), &[folder.join("customers.csv")], false).unwrap_err();
    assert_eq!(
        error.to_string(),
        "customers.csv: line 2 is not UTF-8; save the file as UTF-8"
    );
    std::fs::write(folder.join("people.csv"), "email\n").unwrap();
    let error = import(database.url(), &[folder.join("people.csv")], false).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("the file name must be a table's"),
        "{error}"
    );
    assert_eq!(count(&database, "customers"), 0);
    std::fs::remove_dir_all(folder).unwrap();
}

#[test]
fn subscription_rows_must_agree_with_themselves() {
    let database = TestDatabase::migrated();
    import(
        database.url(),
        &[fixtures("example").join("customers.csv")],
        false,
    )
    .unwrap();
    let folder = scratch_copy("example");
    std::fs::write(
        folder.join("subscriptions.csv"),
        "customer,plan,status,started_at,ended_at,churned_at\n\
         c-1,Basic,churned,2025-02-03,2025-03-01,\n\
         c-1,Basic,switched,2025-02-03,,\n\
         c-1,Basic,active,2025-05-03,2025-04-01,\n\
         c-1,Platinum,active,2025-02-03,,\n",
    )
    .unwrap();
    let error = import(database.url(), &[folder.join("subscriptions.csv")], false).unwrap_err();
    let ImportError::Rejected(report) = error else {
        panic!()
    };
    let found: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        found,
        [
            "subscriptions.csv line 2: churned_at is given exactly when status is churned",
            "subscriptions.csv line 3: ended_at is required when status is switched or churned",
            "subscriptions.csv line 4: ended_at is before started_at",
            "subscriptions.csv line 5: plan 'Platinum' is not a known plan",
        ]
    );
    std::fs::remove_dir_all(folder).unwrap();
}
