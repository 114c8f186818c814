//! The columns of a members file, found by header name (case-insensitive, Russian and
//! English aliases; spaces, `_`, `-` and `.` do not matter).

use super::report::RowError;

/// A column the import understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Card,
    FamilyCards,
    Phone,
    Name,
    LastName,
    MiddleName,
    Email,
    Birthday,
    Consent,
    Channel,
    Points,
    Shortfall,
    Tags,
    Gender,
    HomeStore,
    EnrolledAt,
    /// Written by `export`, read and ignored by `import` (points in hold cannot be imported
    /// as such: put them in `points` if they should count).
    PendingPoints,
    /// Written by `export`, ignored by `import` (the tier follows from the program).
    Tier,
}

/// Every column with its canonical (export) name and its aliases, already normalised.
pub const COLUMNS: &[(Column, &str, &[&str])] = &[
    (
        Column::Card,
        "card",
        &[
            "cardnumber",
            "cardno",
            "barcode",
            "ean",
            "ean13",
            "карта",
            "номеркарты",
            "штрихкод",
            "штрихкодкарты",
        ],
    ),
    (
        Column::FamilyCards,
        "family_cards",
        &[
            "familycard",
            "extracards",
            "othercards",
            "семейныекарты",
            "семейнаякарта",
            "доп.карты",
            "допкарты",
            "дополнительныекарты",
        ],
    ),
    (
        Column::Phone,
        "phone",
        &[
            "phonenumber",
            "telephone",
            "tel",
            "mobile",
            "mobilephone",
            "cell",
            "телефон",
            "тел",
            "номертелефона",
            "мобильный",
            "мобильныйтелефон",
            "сотовый",
        ],
    ),
    (
        Column::Name,
        "name",
        &[
            "fullname",
            "customer",
            "customername",
            "firstname",
            "имя",
            "фио",
            "клиент",
            "покупатель",
            "имяклиента",
        ],
    ),
    (
        Column::LastName,
        "last_name",
        &["surname", "familyname", "фамилия"],
    ),
    (
        Column::MiddleName,
        "middle_name",
        &["patronymic", "secondname", "отчество"],
    ),
    (
        Column::Email,
        "email",
        &[
            "mail",
            "emailaddress",
            "почта",
            "эл.почта",
            "элпочта",
            "электроннаяпочта",
            "емейл",
            "имейл",
        ],
    ),
    (
        Column::Birthday,
        "birthday",
        &[
            "birthdate",
            "dateofbirth",
            "dob",
            "born",
            "деньрождения",
            "датарождения",
            "др",
        ],
    ),
    (
        Column::Consent,
        "consent",
        &[
            "marketingconsent",
            "marketing",
            "subscribed",
            "optin",
            "согласие",
            "согласиенарассылку",
            "рассылка",
            "подписка",
        ],
    ),
    (
        Column::Channel,
        "channel",
        &[
            "preferredchannel",
            "contactchannel",
            "канал",
            "каналсвязи",
            "предпочтительныйканал",
            "способсвязи",
        ],
    ),
    (
        Column::Points,
        "points",
        &[
            "balance",
            "openingbalance",
            "availablepoints",
            "bonus",
            "bonuses",
            "баллы",
            "бонусы",
            "баланс",
            "остаток",
            "бонусныйбаланс",
            "остатокбаллов",
        ],
    ),
    (
        Column::Shortfall,
        "shortfall",
        &["debt", "owed", "долг", "недостача"],
    ),
    (
        Column::Tags,
        "tags",
        &[
            "tag",
            "segments",
            "segment",
            "теги",
            "метки",
            "сегменты",
            "сегмент",
        ],
    ),
    (Column::Gender, "gender", &["sex", "пол"]),
    (
        Column::HomeStore,
        "store",
        &["homestore", "shop", "магазин", "точка"],
    ),
    (
        Column::EnrolledAt,
        "enrolled_at",
        &[
            "enrolled",
            "registered",
            "registeredat",
            "created",
            "createdat",
            "датарегистрации",
            "зарегистрирован",
        ],
    ),
    (
        Column::PendingPoints,
        "pending_points",
        &["pending", "ожидающиебаллы"],
    ),
    (
        Column::Tier,
        "tier",
        &["level", "status", "уровень", "статус"],
    ),
];

impl Column {
    /// The canonical name (as `export` writes it).
    pub fn name(self) -> &'static str {
        COLUMNS
            .iter()
            .find(|(c, _, _)| *c == self)
            .map(|(_, n, _)| *n)
            .unwrap_or("?")
    }
}

/// Lower case without spaces, `_`, `-`, `.`, a BOM or quotes.
pub fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.' | '\u{feff}' | '"' | '\u{a0}'))
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .collect()
}

/// The column a header names, if any.
pub fn lookup(header: &str) -> Option<Column> {
    let key = normalise(header);
    COLUMNS.iter().find_map(|(col, name, aliases)| {
        let canonical = normalise(name);
        (canonical == key || aliases.iter().any(|a| normalise(a) == key)).then_some(*col)
    })
}

/// The file's header mapped: for each field position, its column (`None`: ignored).
#[derive(Clone, Debug, Default)]
pub struct Header {
    /// The header names as written in the file.
    pub names: Vec<String>,
    pub columns: Vec<Option<Column>>,
}

impl Header {
    /// Maps the header row (line 1). Unknown headers are errors unless `ignore_unknown`;
    /// a column named twice is an error; at least one of card, phone or a name is needed.
    pub fn map(names: Vec<String>, ignore_unknown: bool) -> (Header, Vec<RowError>) {
        let mut errors = Vec::new();
        let mut columns: Vec<Option<Column>> = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let col = lookup(name);
            let shown = if name.trim().is_empty() {
                format!("#{}", i + 1)
            } else {
                name.trim().to_string()
            };
            match col {
                None if name.trim().is_empty() || ignore_unknown => {}
                None => errors.push(RowError::new(
                    1,
                    &shown,
                    name,
                    "UNKNOWN_COLUMN",
                    "unknown column: rename it to a known name (see the README), remove it, \
                     or pass --ignore-unknown-columns"
                        .into(),
                )),
                Some(c) if columns.contains(&Some(c)) => errors.push(RowError::new(
                    1,
                    &shown,
                    name,
                    "DUPLICATE_COLUMN",
                    format!("a second column for {}", c.name()),
                )),
                Some(_) => {}
            }
            columns.push(col.filter(|c| !columns.contains(&Some(*c))));
        }
        let header = Header { names, columns };
        let keys = [Column::Card, Column::Phone, Column::Name, Column::LastName];
        if !keys.iter().any(|k| header.position(*k).is_some()) {
            errors.push(RowError::new(
                1,
                "",
                &header.names.join(","),
                "NO_KEY_COLUMN",
                "the header names none of card, phone, name: is it the header row, with the \
                 right delimiter and encoding?"
                    .into(),
            ));
        }
        (header, errors)
    }

    pub fn position(&self, c: Column) -> Option<usize> {
        self.columns.iter().position(|x| *x == Some(c))
    }

    /// The name of field `i` as written (or `#i`).
    pub fn name_at(&self, i: usize) -> String {
        match self.names.get(i).map(|n| n.trim()) {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => format!("#{}", i + 1),
        }
    }

    /// The header name of a column as written in the file (its canonical name if absent).
    pub fn shown(&self, c: Column) -> String {
        self.position(c)
            .map(|i| self.name_at(i))
            .unwrap_or_else(|| c.name().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_in_both_languages_and_any_case() {
        assert_eq!(lookup("Card"), Some(Column::Card));
        assert_eq!(lookup("Номер карты"), Some(Column::Card));
        assert_eq!(lookup("\u{feff}ТЕЛЕФОН"), Some(Column::Phone));
        assert_eq!(lookup("phone_number"), Some(Column::Phone));
        assert_eq!(lookup("Ф.И.О."), Some(Column::Name));
        assert_eq!(lookup("Дата рождения"), Some(Column::Birthday));
        assert_eq!(lookup("E-mail"), Some(Column::Email));
        assert_eq!(lookup("Согласие на рассылку"), Some(Column::Consent));
        assert_eq!(lookup("Баллы"), Some(Column::Points));
        assert_eq!(lookup("pending_points"), Some(Column::PendingPoints));
        assert_eq!(lookup("Город"), None);
        for (c, name, _) in COLUMNS {
            assert_eq!(lookup(name), Some(*c), "{name}");
            assert_eq!(c.name(), *name);
        }
    }

    #[test]
    fn header_errors_are_line_one() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (h, errs) = Header::map(names(&["Телефон", "Имя", "Город"]), false);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].code, "UNKNOWN_COLUMN");
        assert_eq!((errs[0].line, errs[0].column.as_str()), (1, "Город"));
        assert_eq!(h.position(Column::Name), Some(1));
        let (_, errs) = Header::map(names(&["Телефон", "Имя", "Город"]), true);
        assert!(errs.is_empty());
        let (h, errs) = Header::map(names(&["phone", "Телефон"]), false);
        assert_eq!(errs[0].code, "DUPLICATE_COLUMN");
        assert_eq!(h.position(Column::Phone), Some(0));
        let (_, errs) = Header::map(names(&["email"]), false);
        assert_eq!(errs[0].code, "NO_KEY_COLUMN");
    }
}
