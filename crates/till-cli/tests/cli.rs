//! The command-line till as a user runs it: real binary, real store file.

use std::path::Path;
use std::process::{Command, Output};

fn till(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loyalty-till"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run loyalty-till")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn demo_walks_through_a_cashiers_year() {
    let dir = tempfile::tempdir().unwrap();
    let o = till(dir.path(), &["demo"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    for expected in [
        "refused with DUPLICATE_PHONE",
        "refused with SPEND_OVER_CAP",
        "refused with RETURN_EXCEEDS_SALE",
        "refused with CARD_BLOCKED",
        "refused with QR_BAD_SIGNATURE",
        "refused with UNKNOWN_RECEIPT",
        "receipt T01-000003",
        "events wait in the outbox",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert!(!out.contains("unexpectedly accepted"), "{out}");
}

#[test]
fn enrol_sell_return_and_errors_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = till(
        d,
        &["enrol", "--name", "Ivan", "--phone", "8 916 123-45-67"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let card: String = stdout(&o)
        .split_whitespace()
        .find(|w| w.len() == 13 && w.bytes().all(|b| b.is_ascii_digit()))
        .expect("card number printed")
        .to_string();

    let o = till(d, &["lookup", "+7 916 123 45 67"]);
    assert!(stdout(&o).contains(&card), "{}", stdout(&o));

    let o = till(d, &["checkout", &card, "1000.00"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("receipt T01-000001"), "{}", stdout(&o));

    let o = till(d, &["return", "T01-000001", "--amount", "400"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // Bad input: a code and a message on stderr, exit status 2, nothing changed.
    let before = stdout(&till(d, &["history", &card]));
    for (args, code) in [
        (vec!["lookup", "2000100000099"], "CARD_BAD_CHECK_DIGIT"),
        (vec!["lookup", "nobody"], "UNKNOWN_CARD"),
        (vec!["checkout", card.as_str(), "12.345"], "INVALID_AMOUNT"),
        (
            vec!["return", "T01-000001", "--amount", "700"],
            "RETURN_EXCEEDS_SALE",
        ),
        (
            vec!["checkout", card.as_str(), "100", "--spend", "999"],
            "INSUFFICIENT_POINTS",
        ),
    ] {
        let o = till(d, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(&format!("error {code}:")), "{args:?}: {err}");
    }
    assert_eq!(stdout(&till(d, &["history", &card])), before);
}
