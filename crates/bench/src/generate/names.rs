//! Realistic people: Russian names (Cyrillic, with a transliteration for e-mail addresses)
//! and a share of Latin-script names, phones, e-mails, birthdays.

/// `(Cyrillic, Latin transliteration)`.
type Pair = (&'static str, &'static str);

const MALE: &[Pair] = &[
    ("Александр", "aleksandr"),
    ("Дмитрий", "dmitry"),
    ("Сергей", "sergey"),
    ("Андрей", "andrey"),
    ("Алексей", "aleksey"),
    ("Максим", "maksim"),
    ("Иван", "ivan"),
    ("Михаил", "mikhail"),
    ("Николай", "nikolay"),
    ("Владимир", "vladimir"),
    ("Евгений", "evgeny"),
    ("Павел", "pavel"),
    ("Артём", "artem"),
    ("Игорь", "igor"),
    ("Роман", "roman"),
    ("Олег", "oleg"),
];

const FEMALE: &[Pair] = &[
    ("Анна", "anna"),
    ("Елена", "elena"),
    ("Мария", "maria"),
    ("Ольга", "olga"),
    ("Наталья", "natalya"),
    ("Татьяна", "tatyana"),
    ("Ирина", "irina"),
    ("Екатерина", "ekaterina"),
    ("Светлана", "svetlana"),
    ("Юлия", "yulia"),
    ("Анастасия", "anastasia"),
    ("Дарья", "darya"),
    ("Ксения", "ksenia"),
    ("Людмила", "lyudmila"),
    ("Марина", "marina"),
    ("Виктория", "viktoria"),
];

/// Male forms; the female form adds "а" / "a" (all end in -ов, -ев, -ин).
const SURNAMES: &[Pair] = &[
    ("Иванов", "ivanov"),
    ("Смирнов", "smirnov"),
    ("Кузнецов", "kuznetsov"),
    ("Попов", "popov"),
    ("Васильев", "vasilyev"),
    ("Петров", "petrov"),
    ("Соколов", "sokolov"),
    ("Михайлов", "mikhaylov"),
    ("Новиков", "novikov"),
    ("Фёдоров", "fedorov"),
    ("Морозов", "morozov"),
    ("Волков", "volkov"),
    ("Алексеев", "alekseev"),
    ("Лебедев", "lebedev"),
    ("Семёнов", "semenov"),
    ("Егоров", "egorov"),
    ("Павлов", "pavlov"),
    ("Козлов", "kozlov"),
    ("Степанов", "stepanov"),
    ("Николаев", "nikolaev"),
    ("Орлов", "orlov"),
    ("Андреев", "andreev"),
    ("Макаров", "makarov"),
    ("Никитин", "nikitin"),
    ("Захаров", "zakharov"),
    ("Зайцев", "zaytsev"),
    ("Соловьёв", "solovyev"),
    ("Борисов", "borisov"),
    ("Яковлев", "yakovlev"),
    ("Григорьев", "grigoryev"),
];

const LATIN_MALE: &[&str] = &[
    "James", "Peter", "John", "Thomas", "Georgi", "Nikolay", "Lukas", "Marco", "David", "Ahmed",
];
const LATIN_FEMALE: &[&str] = &[
    "Anna", "Maria", "Elena", "Sophie", "Ivana", "Daniela", "Laura", "Emma", "Julia", "Aylin",
];
const LATIN_SURNAMES: &[&str] = &[
    "Smith", "Müller", "Brown", "Georgiev", "Dimitrov", "Wilson", "Schmidt", "García", "Rossi",
    "Novák", "Kowalski", "Yilmaz",
];

const MAIL_DOMAINS: &[&str] = &["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru"];

/// A generated person (the parts of a customer row that are about the human).
pub struct Person {
    pub name: String,
    pub email: Option<String>,
    pub female: bool,
}

fn pick<T: Copy>(rng: &mut fastrand::Rng, list: &[T]) -> T {
    list[rng.usize(..list.len())]
}

/// A person: 85 % Russian names in Cyrillic ("Surname Name" or "Name Surname"), 15 % Latin
/// script; 40 % have an e-mail built from the transliterated name.
pub fn person(rng: &mut fastrand::Rng, serial: u64) -> Person {
    let female = rng.bool();
    let (name, latin) = if rng.u8(..100) < 85 {
        let (first, first_l) = pick(rng, if female { FEMALE } else { MALE });
        let (sur, sur_l) = pick(rng, SURNAMES);
        let (sur, sur_l) = if female {
            (format!("{sur}а"), format!("{sur_l}a"))
        } else {
            (sur.to_string(), sur_l.to_string())
        };
        let name = if rng.bool() {
            format!("{sur} {first}")
        } else {
            format!("{first} {sur}")
        };
        (name, format!("{first_l}.{sur_l}"))
    } else {
        let first = pick(rng, if female { LATIN_FEMALE } else { LATIN_MALE });
        let sur = pick(rng, LATIN_SURNAMES);
        let latin: String = format!("{first}.{sur}")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        (format!("{first} {sur}"), latin.to_ascii_lowercase())
    };
    let email = (rng.u8(..100) < 40).then(|| {
        let domain = pick(rng, MAIL_DOMAINS);
        format!("{latin}{}@{domain}", serial % 1000)
    });
    Person {
        name,
        email,
        female,
    }
}

/// A unique Russian mobile number (E.164) for member `serial` (< 10^9): an affine bijection
/// of the serial onto `+79XXXXXXXXX`, so numbers look random yet never collide.
pub fn phone_e164(serial: u64) -> String {
    const A: u64 = 387_420_489; // 3^18, coprime with 10^9
    const B: u64 = 123_456_789;
    let n = (serial.wrapping_mul(A).wrapping_add(B)) % 1_000_000_000;
    format!("+79{n:09}")
}

/// How a cashier types the phone: `8 916 123-45-67`.
pub fn phone_human(e164: &str) -> String {
    let d = e164.trim_start_matches("+7");
    if d.len() != 10 {
        return e164.to_string();
    }
    format!("8 {} {}-{}-{}", &d[0..3], &d[3..6], &d[6..8], &d[8..10])
}

/// Age group of a birth year at `year`.
pub fn age_group(birth_year: i32, year: i32) -> &'static str {
    match year - birth_year {
        ..=24 => "18-24",
        25..=34 => "25-34",
        35..=44 => "35-44",
        45..=54 => "45-54",
        _ => "55+",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_unique_valid_and_typed_like_a_cashier() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..20_000u64 {
            assert!(seen.insert(phone_e164(i)));
        }
        for i in [0u64, 1, 999, 123_456, 999_999, 5_000_000] {
            let e164 = phone_e164(i);
            let human = phone_human(&e164);
            assert!(human.starts_with("8 9"), "{human}");
            assert_eq!(
                loyalty_cards::phone::normalize(&human, "RU").ok(),
                Some(e164)
            );
        }
    }

    #[test]
    fn people_have_names_in_both_scripts() {
        let mut rng = fastrand::Rng::with_seed(1);
        let people: Vec<Person> = (0..500).map(|i| person(&mut rng, i)).collect();
        assert!(people.iter().any(|p| p.name.chars().any(|c| c.is_ascii())));
        assert!(people.iter().any(|p| p.name.contains('а')));
        assert!(people
            .iter()
            .filter_map(|p| p.email.as_ref())
            .all(|e| e.is_ascii() && e.contains('@')));
    }
}
