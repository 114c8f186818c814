//! `loyalty-server import` against a real server on every backend: good files reach a
//! till through the normal sync; one bad row imports nothing and is reported exactly;
//! encodings, delimiters, BOM, quoting; a rerun is a no-op; the server's own members.

mod import_support;
mod support;

use import_support::*;
use loyalty_server::import::ImportOutcome;
use support::*;

backend_tests!(
    a_good_file_reaches_a_till_with_its_balances,
    one_bad_row_imports_nothing_and_names_line_and_column,
    windows_1251_with_semicolons,
    bom_commas_and_quoted_fields,
    a_rerun_is_a_no_op,
    cards_and_phones_already_on_the_server_are_refused,
);

const GOOD: &str = "\
Карта;Телефон;Имя;Email;Дата рождения;Согласие;Канал;Баллы;Теги;Семейные карты
4006381333931;8 916 123-45-67;Анна Иванова;anna@example.com;07.03.1990;да;sms;1 500;vip;2000000000022
;+7 (916) 222-33-44;Борис Петров;;1985-12-01;нет;;0;;
;8 916 333 44 55;Вера Сидорова;vera@mail.ru;;1;email;250;кофе, чай;
";

async fn a_good_file_reaches_a_till_with_its_balances(db: Db) {
    let s = start(db).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "members.csv", GOOD);
    let ImportOutcome::Imported {
        summary, record, ..
    } = import_file(&s, &file).await
    else {
        panic!("not imported")
    };
    assert_eq!((summary.members, summary.cards_generated), (3, 2));
    // 3 enrolments, 1 family card, 2 opening balances: each a fact with a gseq.
    assert_eq!(record.events, 6);
    assert_eq!((record.first_gseq, record.last_gseq), (1, 6));
    assert_eq!(counts(&s).await, (3, 3, 4, 6));

    // A till bootstraps from the server and finds every member, as if enrolled at a till.
    let till = s.till("Main St").await;
    let t = SyncedTill::new(&s, dir.path(), &till).await;
    t.sync().await;
    let anna = t.lookup("89161234567");
    assert_eq!(anna.customer.name, "Анна Иванова");
    assert_eq!(anna.customer.email.as_deref(), Some("anna@example.com"));
    assert!(anna.customer.marketing_consent);
    assert_eq!(anna.balance.available, 1500);
    assert_eq!(anna.card, "4006381333931");
    assert_eq!(t.lookup("2000000000022").customer.name, "Анна Иванова");
    let vera = t.lookup("+7 916 333-44-55");
    assert_eq!(vera.balance.available, 250);
    assert_eq!(vera.customer.tags, ["кофе", "чай"]);
    assert!(vera.card.starts_with("299"), "generated: {}", vera.card);
    assert_eq!(t.lookup(&vera.card).customer.name, "Вера Сидорова");
    let boris = t.lookup("89162223344");
    assert_eq!(boris.balance.available, 0);
    assert_ne!(boris.card, vera.card);

    // ... and what the server adds later arrives through changes like any fact.
    let before = s.count("events").await;
    s.upload(&till, &[env(1, adjust(&anna_account(&s).await, 10))])
        .await;
    assert_eq!(s.count("events").await, before + 1);
    t.sync().await;
    assert_eq!(t.lookup("89161234567").balance.available, 1510);
    s.stop().await;
}

async fn anna_account(s: &TestServer) -> String {
    let page = s.backend.members_page(None, 100).await.unwrap();
    page.members
        .into_iter()
        .find(|m| m.cards.iter().any(|c| c.number == "4006381333931"))
        .map(|m| m.account_uid)
        .unwrap()
}

async fn one_bad_row_imports_nothing_and_names_line_and_column(db: Db) {
    let s = start(db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("card;phone;name;points\n");
    for i in 0..5 {
        text.push_str(&format!(";8 916 100-00-0{i};Member {i};10\n"));
    }
    // Line 5 (the header is line 1): a phone that is no phone.
    let text = text.replacen("8 916 100-00-03", "8 916 10", 1);
    let file = write(dir.path(), "members.csv", &text);
    let ImportOutcome::Invalid { errors, report, .. } = import_file(&s, &file).await else {
        panic!("imported a bad file")
    };
    assert_eq!(errors.total, 1);
    let e = &errors.errors[0];
    assert_eq!(
        (e.line, e.column.as_str(), e.value.as_str(), e.code),
        (5, "phone", "8 916 10", "PHONE_INVALID")
    );
    assert_eq!(counts(&s).await, (0, 0, 0, 0), "nothing imported");
    assert_eq!(report, dir.path().join("members.errors.csv"));
    let written = std::fs::read_to_string(&report).unwrap();
    assert!(
        written.contains("5;phone;8 916 10;PHONE_INVALID;"),
        "{written}"
    );

    // Several bad rows: every one is listed, still nothing imported.
    let text =
        "Карта;Телефон;Баллы\n4006381333932;89161000000;5\n;89161000001;-3\n;;\n;89161000001;x\n";
    let file = write(dir.path(), "more.csv", text);
    let ImportOutcome::Invalid { errors, .. } = import_file(&s, &file).await else {
        panic!("imported a bad file")
    };
    let got: Vec<(u64, &str, &str)> = errors
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_str(), e.code))
        .collect();
    assert_eq!(
        got,
        [
            (2, "Карта", "CARD_BAD_CHECK_DIGIT"),
            (3, "Баллы", "POINTS_NEGATIVE"),
            (5, "Баллы", "POINTS_INVALID"),
        ]
    );
    assert_eq!(counts(&s).await, (0, 0, 0, 0));

    // Fixed, the file imports and the stale report is gone.
    let fixed = write(dir.path(), "members.csv", text_fixed());
    assert!(matches!(
        import_file(&s, &fixed).await,
        ImportOutcome::Imported { .. }
    ));
    assert!(!report.exists());
    s.stop().await;
}

fn text_fixed() -> &'static str {
    "card;phone;name;points\n;89161000000;A;10\n;89161000001;B;10\n"
}

async fn windows_1251_with_semicolons(db: Db) {
    let s = start(db).await;
    let dir = tempfile::tempdir().unwrap();
    let text = "ФИО;Телефон;Дата рождения;Баланс;Канал\r\n\
                Ёлкина Жанна;8 (926) 555-12-34;29.02.1996;75;Телеграм\r\n\
                Щукин Эдуард;+7 926 555 12 35;1970-01-31;0;смс\r\n";
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1251.encode(text);
    assert!(!unmappable);
    let file = write(dir.path(), "cp1251.csv", &bytes);
    let ImportOutcome::Imported { summary, .. } = import_file(&s, &file).await else {
        panic!("not imported")
    };
    assert_eq!(summary.encoding.name(), "windows-1251");
    assert_eq!((summary.delimiter, summary.members), (b';', 2));
    let page = s.backend.members_page(None, 10).await.unwrap();
    let mut names: Vec<(String, String, String)> = page
        .members
        .iter()
        .map(|m| {
            let p = &m.customer.as_ref().unwrap().profile;
            (
                p.name.clone(),
                p.phone.clone().unwrap(),
                p.preferred_channel.clone(),
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            (
                "Ёлкина Жанна".to_string(),
                "+79265551234".to_string(),
                "messenger".to_string()
            ),
            ("Щукин Эдуард".into(), "+79265551235".into(), "sms".into()),
        ]
    );
    s.stop().await;
}

async fn bom_commas_and_quoted_fields(db: Db) {
    let s = start(db).await;
    let dir = tempfile::tempdir().unwrap();
    let text = "\u{feff}Name,Phone,Tags,Email\n\
                \"O'Brien, \"\"Jack\"\"\",+359 888 123 456,\"a, b\",jack@example.ie\n\
                \"Line\nbreak\",+359888123457,,\n";
    let file = write(dir.path(), "bom.csv", text);
    let mut opts = options(&file);
    opts.region = "BG".into();
    let outcome = loyalty_server::import::run(s.backend.clone(), opts, chrono::Utc::now())
        .await
        .unwrap();
    let ImportOutcome::Imported { summary, .. } = outcome else {
        panic!("not imported: {outcome:?}")
    };
    assert_eq!(
        (summary.encoding.name(), summary.delimiter),
        ("utf-8", b',')
    );
    let page = s.backend.members_page(None, 10).await.unwrap();
    let mut got: Vec<(String, Vec<String>)> = page
        .members
        .iter()
        .map(|m| {
            let p = &m.customer.as_ref().unwrap().profile;
            (p.name.clone(), p.tags.clone())
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("Line break".to_string(), vec![]),
            (
                "O'Brien, \"Jack\"".to_string(),
                vec!["a".to_string(), "b".to_string()]
            ),
        ]
    );
    s.stop().await;
}

async fn a_rerun_is_a_no_op(db: Db) {
    let s = start(db).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "members.csv", GOOD);
    let ImportOutcome::Imported { record: first, .. } = import_file(&s, &file).await else {
        panic!("not imported")
    };
    let after_first = counts(&s).await;
    // Again, and under another name: the same bytes are the same import.
    let copy = write(dir.path(), "copy.csv", GOOD);
    for f in [&file, &copy] {
        let ImportOutcome::AlreadyImported { record } = import_file(&s, f).await else {
            panic!("imported twice")
        };
        assert_eq!(record, first);
    }
    assert_eq!(counts(&s).await, after_first);
    // A dry run of a new file writes nothing either.
    let other = write(dir.path(), "other.csv", "phone\n89169998877\n");
    let mut opts = options(&other);
    opts.dry_run = true;
    let outcome = loyalty_server::import::run(s.backend.clone(), opts, chrono::Utc::now())
        .await
        .unwrap();
    assert!(
        matches!(outcome, ImportOutcome::DryRun { .. }),
        "{outcome:?}"
    );
    assert_eq!(counts(&s).await, after_first);
    s.stop().await;
}

async fn cards_and_phones_already_on_the_server_are_refused(db: Db) {
    let s = start(db).await;
    let till = s.till("Main St").await;
    // A till enrolled this member (phone +79161234567, card 2000000000015).
    s.upload(&till, &[env(1, enrol("acc-1", "2000000000015", 0))])
        .await;
    let dir = tempfile::tempdir().unwrap();
    let text = "card;phone;name\n2000000000015;;A\n;8 916 123-45-67;B\n;89160000001;C\n";
    let file = write(dir.path(), "m.csv", text);
    let before = counts(&s).await;
    let ImportOutcome::Invalid { errors, .. } = import_file(&s, &file).await else {
        panic!("imported")
    };
    let got: Vec<(u64, &str, &str)> = errors
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_str(), e.code))
        .collect();
    assert_eq!(
        got,
        [
            (2, "card", "CARD_ON_SERVER"),
            (3, "phone", "PHONE_ON_SERVER")
        ]
    );
    assert_eq!(counts(&s).await, before);
    s.stop().await;
}
