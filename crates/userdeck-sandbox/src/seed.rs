//! Deterministic demo data: the same `--seed` always gives the same users.
//!
//! A tiny SplitMix64 generator drives the choices (no `rand`, so data never changes with a
//! dependency bump). Names are deliberately varied — accents, Polish, CJK, Cyrillic, Greek,
//! Arabic — because a console that mangles "Łukasz" or "田中" is broken.

use std::collections::{BTreeMap, HashSet};

use crate::appcrm::{DATE_FORMATS, INSTALLED_LOCALES, ROLES, TIME_FORMATS};
use crate::demo;
use crate::store::{
    AppCrmStore, AppCrmUser, CapsuleStore, CapsuleUser, Snapshot, ZurmoAddress, ZurmoEmail,
    ZurmoStore, ZurmoUser, hash_password,
};

/// The password of every seeded user that is not a demo account (Laravel's factory default).
pub const SEEDED_PASSWORD: &str = "password";

/// 2023-01-01T00:00:00Z: seeded timestamps start here so they do not depend on the clock.
const EPOCH: i64 = 1_672_531_200;
const DAY: i64 = 86_400;

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, and good enough for demo data.
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A uniform float in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        let i = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items[i.min(items.len().saturating_sub(1))]
    }
}

/// (display, ASCII form for usernames and e-mail addresses)
const FIRST: &[(&str, &str)] = &[
    ("Zoë", "zoe"),
    ("Łukasz", "lukasz"),
    ("José", "jose"),
    ("Amélie", "amelie"),
    ("Søren", "soren"),
    ("Björn", "bjorn"),
    ("Małgorzata", "malgorzata"),
    ("Zoltán", "zoltan"),
    ("Siobhán", "siobhan"),
    ("François", "francois"),
    ("Jürgen", "jurgen"),
    ("João", "joao"),
    ("İlkay", "ilkay"),
    ("Noémie", "noemie"),
    ("Olivia", "olivia"),
    ("Liam", "liam"),
    ("Emma", "emma"),
    ("Noah", "noah"),
    ("Ava", "ava"),
    ("Ethan", "ethan"),
    ("Mia", "mia"),
    ("Lucas", "lucas"),
    ("Sofia", "sofia"),
    ("Mateo", "mateo"),
    ("Priya", "priya"),
    ("Arjun", "arjun"),
    ("Aisha", "aisha"),
    ("Omar", "omar"),
    ("Fatima", "fatima"),
    ("Kwame", "kwame"),
    ("Amara", "amara"),
    ("Yuki", "yuki"),
    ("Hiroshi", "hiroshi"),
    ("Mei", "mei"),
    ("Ji-woo", "jiwoo"),
    ("Olga", "olga"),
    ("Ingrid", "ingrid"),
    ("Lars", "lars"),
    ("Giulia", "giulia"),
    ("Marco", "marco"),
    ("Camila", "camila"),
    ("Chloé", "chloe"),
    ("Anaïs", "anais"),
    ("Nuño", "nuno"),
    ("Ðorđe", "dorde"),
    ("太郎", "taro"),
    ("美咲", "misaki"),
    ("伟", "wei"),
    ("서연", "seoyeon"),
    ("Анна", "anna"),
    ("Дмитрий", "dmitriy"),
    ("Νίκος", "nikos"),
    ("محمد", "mohammed"),
    ("Grace", "grace"),
    ("Samuel", "samuel"),
    ("Hannah", "hannah"),
    ("Diego", "diego"),
];

const LAST: &[(&str, &str)] = &[
    ("Kowalski", "kowalski"),
    ("Müller", "muller"),
    ("García", "garcia"),
    ("Núñez", "nunez"),
    ("O'Brien", "obrien"),
    ("Dubois", "dubois"),
    ("Nørgaard", "norgaard"),
    ("Wiśniewski", "wisniewski"),
    ("Smith", "smith"),
    ("Johnson", "johnson"),
    ("Nguyen", "nguyen"),
    ("Kim", "kim"),
    ("Patel", "patel"),
    ("Okafor", "okafor"),
    ("Rossi", "rossi"),
    ("Silva", "silva"),
    ("Andersson", "andersson"),
    ("Yılmaz", "yilmaz"),
    ("田中", "tanaka"),
    ("佐藤", "sato"),
    ("王", "wang"),
    ("李", "li"),
    ("Иванова", "ivanova"),
    ("Παπαδόπουλος", "papadopoulos"),
    ("van der Berg", "vanderberg"),
    ("de la Cruz", "delacruz"),
    ("Schröder", "schroder"),
    ("Lefèvre", "lefevre"),
    ("Brown", "brown"),
    ("Taylor", "taylor"),
    ("Wilson", "wilson"),
    ("Mensah", "mensah"),
    ("Haddad", "haddad"),
    ("Cohen", "cohen"),
    ("Fernández", "fernandez"),
    ("Lindqvist", "lindqvist"),
];

const TIMEZONES: &[&str] = &[
    "Europe/London",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Europe/Berlin",
    "Europe/Warsaw",
    "Europe/Paris",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Australia/Sydney",
    "Africa/Lagos",
    "Pacific/Auckland",
    "America/Argentina/Buenos_Aires",
    "UTC",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Europe/Madrid",
    "Asia/Seoul",
];
const CAPSULE_LOCALES: &[&str] = &[
    "en_GB", "en_US", "de_DE", "fr_FR", "es_ES", "pl_PL", "ja_JP", "pt_BR",
];
const CURRENCIES: &[&str] = &["GBP", "USD", "EUR", "PLN", "JPY", "BRL", "AUD"];
const CLICK_TO_CALL: &[&str] = &["SIP", "TEL", "CALLTO", "CIRCLELOOP"];
const JOB_TITLES: &[&str] = &[
    "Account Executive",
    "Sales Manager",
    "Support Engineer",
    "President",
    "Marketing Lead",
    "Customer Success Manager",
    "Operations Analyst",
    "Office Manager",
    "CTO",
    "Intern",
];
const DEPARTMENTS: &[&str] = &[
    "Sales",
    "Support",
    "Marketing",
    "Engineering",
    "Operations",
    "Finance",
];
const CITIES: &[(&str, &str)] = &[
    ("London", "United Kingdom"),
    ("Kraków", "Poland"),
    ("São Paulo", "Brazil"),
    ("Chicago", "United States"),
    ("Tōkyō", "Japan"),
    ("München", "Germany"),
    ("Lagos", "Nigeria"),
    ("Noodleville", "United States"),
    ("Montréal", "Canada"),
    ("Sevilla", "Spain"),
];
const TITLES: &[&str] = &["Mr.", "Mrs.", "Ms.", "Dr.", "Prof."];
const ZURMO_LANGUAGES: &[&str] = &["en", "de", "fr", "es", "it", "ja"];

struct Person {
    first: &'static str,
    first_ascii: &'static str,
    last: &'static str,
    last_ascii: &'static str,
}

fn person(rng: &mut SplitMix64) -> Person {
    let (first, first_ascii) = rng.pick(FIRST);
    let (last, last_ascii) = rng.pick(LAST);
    Person {
        first,
        first_ascii,
        last,
        last_ascii,
    }
}

/// Returns `base`, or `base` + a number, whichever is still free.
fn unique(taken: &mut HashSet<String>, base: &str, suffix: &str) -> String {
    let mut candidate = format!("{base}{suffix}");
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{base}{n}{suffix}");
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

/// All three stores for `seed`, `users` users each (at least the demo accounts).
pub fn snapshot(seed: u64, users: usize) -> Snapshot {
    Snapshot {
        capsule: capsule(seed ^ 0xCA95_0001, users),
        appcrm: appcrm(seed ^ 0xA99C_0002, users),
        zurmo: zurmo(seed ^ 0x2E40_0003, users),
    }
}

fn capsule(seed: u64, users: usize) -> CapsuleStore {
    let mut rng = SplitMix64::new(seed);
    let mut names = HashSet::new();
    let mut emails = HashSet::new();
    let mut out = Vec::new();
    for i in 0..users.max(1) {
        let id = i as u64 + 1;
        let p = if id == 1 {
            Person {
                first: "Scott",
                first_ascii: "scott",
                last: "Spacey",
                last_ascii: "spacey",
            }
        } else {
            person(&mut rng)
        };
        let created_at = EPOCH + rng.below(365) as i64 * DAY + rng.below(DAY as u64) as i64;
        let status = if id == 1 {
            "ACTIVE"
        } else {
            match rng.below(100) {
                0..=79 => "ACTIVE",
                80..=91 => "INACTIVE",
                _ => "PENDING",
            }
        };
        let last_login_at = (status != "PENDING")
            .then(|| created_at + rng.below(400) as i64 * DAY + rng.below(DAY as u64) as i64);
        let username = unique(&mut names, p.first_ascii, "");
        let email = unique(
            &mut emails,
            &format!("{}.{}", p.first_ascii, p.last_ascii),
            "@capsule.example",
        );
        out.push(CapsuleUser {
            id,
            username,
            party_id: 1000 + id * 3,
            email_id: 5000 + id * 7,
            // A few parties carry no first name, as Capsule allows.
            first_name: (id == 1 || !rng.chance(3)).then(|| p.first.to_string()),
            last_name: Some(p.last.to_string()),
            email,
            job_title: rng.chance(80).then(|| rng.pick(JOB_TITLES).to_string()),
            locale: if id == 1 {
                "en_GB".into()
            } else {
                rng.pick(CAPSULE_LOCALES).into()
            },
            currency: if id == 1 {
                "EUR".into()
            } else {
                rng.pick(CURRENCIES).into()
            },
            timezone: if id == 1 {
                "Europe/London".into()
            } else {
                rng.pick(TIMEZONES).into()
            },
            task_reminder: rng.chance(70),
            email_preference: if rng.chance(50) {
                "SEND_AND_LOG"
            } else {
                "SEND_ONLY"
            }
            .into(),
            click_to_call: rng.pick(CLICK_TO_CALL).into(),
            status: status.into(),
            last_login_at,
            created_at,
        });
    }
    CapsuleStore { users: out }
}

fn appcrm(seed: u64, users: usize) -> AppCrmStore {
    let mut rng = SplitMix64::new(seed);
    let mut emails = HashSet::new();
    let mut map = BTreeMap::new();
    let fixed: [(&str, &str, &str, bool, bool); 3] = [
        (
            "Amélie Laurent",
            demo::APPCRM_ADMIN_EMAIL,
            demo::APPCRM_ADMIN_PASSWORD,
            true,
            true,
        ),
        (
            "Jonas Weber",
            demo::APPCRM_USER_EMAIL,
            demo::APPCRM_USER_PASSWORD,
            false,
            true,
        ),
        (
            "Noah Blocked",
            demo::APPCRM_NOAPI_EMAIL,
            SEEDED_PASSWORD,
            false,
            false,
        ),
    ];
    for i in 0..users.max(fixed.len()) {
        let id = i as u64 + 1;
        let created_at = EPOCH + rng.below(365) as i64 * DAY + rng.below(DAY as u64) as i64;
        let (name, email, password, super_admin, access_api) = match fixed.get(i) {
            Some(&(n, e, p, s, a)) => {
                emails.insert(e.to_string());
                (n.to_string(), e.to_string(), p, s, a)
            }
            None => {
                let p = person(&mut rng);
                let email = unique(
                    &mut emails,
                    &format!("{}.{}", p.first_ascii, p.last_ascii),
                    "@appcrm.example",
                );
                let super_admin = rng.chance(5);
                (
                    format!("{} {}", p.first, p.last),
                    email,
                    SEEDED_PASSWORD,
                    super_admin,
                    super_admin || !rng.chance(10),
                )
            }
        };
        let salt = format!("{:016x}", rng.next_u64());
        let roles = if super_admin {
            Vec::new()
        } else {
            vec![rng.pick(ROLES).to_string()]
        };
        map.insert(
            id,
            AppCrmUser {
                id,
                password_hash: hash_password(&salt, password),
                password_salt: salt,
                mail_signature: rng
                    .chance(40)
                    .then(|| format!("<p>Best regards,<br>{name}</p>")),
                name,
                email,
                timezone: rng.pick(TIMEZONES).into(),
                locale: rng.pick(INSTALLED_LOCALES).into(),
                super_admin,
                access_api,
                time_format: rng.pick(TIME_FORMATS).into(),
                date_format: rng.pick(DATE_FORMATS).into(),
                default_landing_page: "dashboard".into(),
                first_day_of_week: if rng.chance(60) { 1 } else { 0 },
                roles,
                unread_notifications: u32::try_from(rng.below(6)).unwrap_or(0),
                created_at,
                updated_at: created_at + rng.below(200) as i64 * DAY,
            },
        );
    }
    let mut tokens = BTreeMap::new();
    tokens.insert(demo::APPCRM_ADMIN_TOKEN.to_string(), 1);
    tokens.insert(demo::APPCRM_USER_TOKEN.to_string(), 2);
    tokens.insert(demo::APPCRM_NOAPI_TOKEN.to_string(), 3);
    AppCrmStore {
        next_id: map.len() as u64 + 1,
        users: map,
        tokens,
        next_token_id: 4,
    }
}

fn zurmo(seed: u64, users: usize) -> ZurmoStore {
    let mut rng = SplitMix64::new(seed);
    let mut names = HashSet::new();
    let mut emails = HashSet::new();
    let mut map = BTreeMap::new();
    let mut sub = 1u64;
    let mut next_sub = || {
        sub += 1;
        sub
    };
    for i in 0..users.max(2) {
        let id = i as u64 + 1;
        let (p, username, password, is_super, active) = match id {
            1 => (
                Person {
                    first: "Super",
                    first_ascii: "super",
                    last: "User",
                    last_ascii: "user",
                },
                {
                    names.insert(demo::ZURMO_USERNAME.to_string());
                    demo::ZURMO_USERNAME.to_string()
                },
                demo::ZURMO_PASSWORD,
                true,
                true,
            ),
            2 => (
                Person {
                    first: "Jim",
                    first_ascii: "jim",
                    last: "Halpert",
                    last_ascii: "halpert",
                },
                {
                    names.insert(demo::ZURMO_USER_USERNAME.to_string());
                    demo::ZURMO_USER_USERNAME.to_string()
                },
                demo::ZURMO_USER_PASSWORD,
                false,
                true,
            ),
            _ => {
                let p = person(&mut rng);
                let base = format!(
                    "{}{}",
                    p.first_ascii,
                    &p.last_ascii[..1.min(p.last_ascii.len())]
                );
                let username = unique(&mut names, &base, "");
                let active = !rng.chance(10);
                let is_super = rng.chance(4);
                (p, username, SEEDED_PASSWORD, is_super, active)
            }
        };
        let created = EPOCH + rng.below(365) as i64 * DAY + rng.below(DAY as u64) as i64;
        let salt = format!("{:016x}", rng.next_u64());
        let email = unique(
            &mut emails,
            &format!("{}.{}", p.first_ascii, p.last_ascii),
            "@zurmo.example",
        );
        let (city, country) = rng.pick(CITIES);
        map.insert(
            id,
            ZurmoUser {
                id,
                username,
                password_hash: hash_password(&salt, password),
                password_salt: salt,
                created,
                modified: created + rng.below(100) as i64 * DAY,
                created_by: 1,
                modified_by: 1,
                language: Some(rng.pick(ZURMO_LANGUAGES).into()),
                locale: None,
                time_zone: Some(rng.pick(TIMEZONES).into()),
                is_active: active,
                last_login: (active && rng.chance(85))
                    .then(|| created + rng.below(300) as i64 * DAY),
                is_root_user: false,
                is_super,
                api_login: active,
                currency_id: Some(1),
                manager_id: (id > 2 && rng.chance(70)).then(|| 1 + rng.below(id - 1)),
                department: rng.chance(85).then(|| rng.pick(DEPARTMENTS).into()),
                first_name: Some(p.first.into()),
                job_title: rng.chance(85).then(|| rng.pick(JOB_TITLES).into()),
                last_name: Some(p.last.into()),
                mobile_phone: rng.chance(70).then(|| phone(&mut rng)),
                office_phone: rng.chance(60).then(|| phone(&mut rng)),
                office_fax: rng.chance(10).then(|| phone(&mut rng)),
                primary_address: rng.chance(60).then(|| ZurmoAddress {
                    id: next_sub(),
                    city: Some(city.into()),
                    country: Some(country.into()),
                    postal_code: Some(format!("{:05}", rng.below(100_000))),
                    street1: Some(format!("{} Main Street", 1 + rng.below(300))),
                    street2: None,
                    state: None,
                }),
                primary_email: Some(ZurmoEmail {
                    id: next_sub(),
                    email_address: Some(email),
                    is_invalid: None,
                    opt_out: Some(rng.chance(10)),
                }),
                secondary_email: None,
                title: rng
                    .chance(50)
                    .then(|| (next_sub(), rng.pick(TITLES).to_string())),
            },
        );
    }
    ZurmoStore {
        next_id: map.len() as u64 + 1,
        users: map,
        next_sub_id: sub + 1,
    }
}

fn phone(rng: &mut SplitMix64) -> String {
    format!(
        "{:03}-{:03}-{:04}",
        200 + rng.below(700),
        rng.below(1000),
        rng.below(10_000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_data() {
        let a = serde_json::to_string(&snapshot(7, 50)).unwrap();
        let b = serde_json::to_string(&snapshot(7, 50)).unwrap();
        let c = serde_json::to_string(&snapshot(8, 50)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn emails_and_usernames_are_unique_and_varied() {
        let s = snapshot(42, 300);
        let emails: HashSet<_> = s.appcrm.users.values().map(|u| u.email.clone()).collect();
        assert_eq!(emails.len(), 300);
        let names: HashSet<_> = s.zurmo.users.values().map(|u| u.username.clone()).collect();
        assert_eq!(names.len(), 300);
        assert!(s.appcrm.users.values().any(|u| !u.name.is_ascii()));
        assert!(s.zurmo.users.values().any(|u| !u.is_active));
        assert!(s.capsule.users.iter().any(|u| u.status == "INACTIVE"));
    }
}
