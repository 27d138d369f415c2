//! What to list: free text, per-field conditions with any/all matching, sort, paging and field
//! selection, in provider-neutral terms. Providers translate it (App CRM `q`/`search_fields`,
//! Zurmo `search[…]`/`dynamicSearch`); for Capsule it is applied on the client by [`UserQuery::matches`].

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::model::User;

/// A user attribute that can be searched or sorted on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UserField {
    Id,
    DisplayName,
    Username,
    Email,
    FirstName,
    LastName,
    Active,
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
    /// A provider-native attribute name (`jobTitle`, `department`, …), passed through as is.
    Native(String),
}

impl UserField {
    /// The value of this field on a decoded user, for client-side filtering and sorting.
    pub fn value_of(&self, user: &User) -> Option<String> {
        match self {
            UserField::Id => Some(user.id.to_string()),
            UserField::DisplayName => Some(user.display_name.clone()),
            UserField::Username => user.username.clone(),
            UserField::Email => user.email.clone(),
            UserField::FirstName => user.first_name.clone(),
            UserField::LastName => user.last_name.clone(),
            UserField::Active => user.active.map(|a| if a { "1" } else { "0" }.to_string()),
            UserField::CreatedAt => user.created_at.clone(),
            UserField::UpdatedAt => user.updated_at.clone(),
            UserField::LastLoginAt => user.last_login_at.clone(),
            UserField::Native(path) => user.raw_text(path),
        }
    }
}

/// How a condition compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    /// Exact match (case-insensitive for text on the client).
    Equals,
    /// Substring match.
    Contains,
    /// Prefix match (Zurmo's native text search).
    StartsWith,
    /// Value is one of a comma-separated list.
    In,
}

/// One per-field condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub field: UserField,
    pub op: Op,
    pub value: String,
}

impl Condition {
    /// Shorthand constructor.
    pub fn new(field: UserField, op: Op, value: impl Into<String>) -> Condition {
        Condition {
            field,
            op,
            value: value.into(),
        }
    }

    /// Client-side evaluation, case-insensitive.
    pub fn matches(&self, user: &User) -> bool {
        let Some(actual) = self.field.value_of(user) else {
            return false;
        };
        let actual = lowercase(&actual);
        let wanted = lowercase(&self.value);
        match self.op {
            Op::Equals => actual == wanted,
            Op::Contains => actual.contains(&wanted),
            Op::StartsWith => actual.starts_with(&wanted),
            Op::In => wanted.split(',').map(str::trim).any(|w| w == actual),
        }
    }
}

/// Whether every condition must hold or any one is enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Match {
    #[default]
    All,
    Any,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

/// Sort key and direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sort {
    pub field: UserField,
    pub direction: Direction,
}

/// A list request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserQuery {
    /// Free text (name, username or email), trimmed; empty means none.
    pub text: Option<String>,
    pub conditions: Vec<Condition>,
    pub match_mode: Match,
    pub sort: Option<Sort>,
    /// 1-based.
    pub page: u32,
    /// 0 means the provider's default.
    pub page_size: u32,
    /// Fields to fetch (App CRM `select`); empty means all.
    pub fields: Vec<UserField>,
    /// A custom way to combine the conditions instead of all-AND / all-OR, e.g. `(1 or 2) and 3`:
    /// numbers are 1-based positions among [`UserQuery::active_conditions`]. Only CRMs with
    /// `Capabilities::custom_structure` (Zurmo) take it; it is checked by [`check_structure`]
    /// before anything is sent. `None` or blank means the `match_mode` default.
    #[serde(default)]
    pub structure: Option<String>,
}

impl Default for UserQuery {
    fn default() -> Self {
        UserQuery {
            text: None,
            conditions: Vec::new(),
            match_mode: Match::All,
            sort: None,
            page: 1,
            page_size: 0,
            fields: Vec::new(),
            structure: None,
        }
    }
}

impl UserQuery {
    /// Page `page` of everything.
    pub fn page(page: u32, page_size: u32) -> UserQuery {
        UserQuery {
            page,
            page_size,
            ..UserQuery::default()
        }
    }

    /// Builder: free-text search.
    pub fn text(mut self, text: impl Into<String>) -> UserQuery {
        self.text = Some(text.into());
        self
    }

    /// Builder: add a condition.
    pub fn with(mut self, field: UserField, op: Op, value: impl Into<String>) -> UserQuery {
        self.conditions.push(Condition::new(field, op, value));
        self
    }

    /// Builder: any/all.
    pub fn matching(mut self, mode: Match) -> UserQuery {
        self.match_mode = mode;
        self
    }

    /// Builder: a custom condition structure such as `(1 or 2) and 3`.
    pub fn structured(mut self, structure: impl Into<String>) -> UserQuery {
        self.structure = Some(structure.into());
        self
    }

    /// The custom structure, trimmed, when non-blank and valid for the active conditions; an
    /// `InvalidQuery` error saying what is wrong otherwise.
    pub fn checked_structure(&self) -> Result<Option<&str>, ApiError> {
        let Some(s) = self
            .structure
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return Ok(None);
        };
        check_structure(s, self.active_conditions().count())?;
        Ok(Some(s))
    }

    /// Builder: sort.
    pub fn sorted(mut self, field: UserField, direction: Direction) -> UserQuery {
        self.sort = Some(Sort { field, direction });
        self
    }

    /// The free text, trimmed, when non-empty.
    pub fn search_text(&self) -> Option<&str> {
        self.text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// Conditions with a non-empty value (empty form inputs mean "no condition").
    pub fn active_conditions(&self) -> impl Iterator<Item = &Condition> {
        self.conditions
            .iter()
            .filter(|c| !c.value.trim().is_empty())
    }

    /// True when the query filters or sorts (anything beyond plain paging).
    pub fn is_filtered(&self) -> bool {
        self.search_text().is_some() || self.active_conditions().next().is_some()
    }

    /// Client-side evaluation of text and conditions (used for Capsule).
    pub fn matches(&self, user: &User) -> bool {
        if let Some(text) = self.search_text() {
            let t = lowercase(text);
            let hit = [
                Some(&user.display_name),
                user.username.as_ref(),
                user.email.as_ref(),
            ]
            .into_iter()
            .flatten()
            .any(|v| lowercase(v).contains(&t));
            if !hit {
                return false;
            }
        }
        let mut conditions = self.active_conditions().peekable();
        if conditions.peek().is_none() {
            return true;
        }
        match self.match_mode {
            Match::All => conditions.all(|c| c.matches(user)),
            Match::Any => conditions.any(|c| c.matches(user)),
        }
    }

    /// Client-side sort (used for Capsule): numbers compare numerically, text case-insensitively,
    /// missing values last.
    pub fn sort_users(&self, users: &mut Vec<User>) {
        let Some(sort) = &self.sort else { return };
        // Each user's key is worked out once (a comparison sort would otherwise clone, parse
        // and lowercase both sides of every comparison): numbers compare as numbers, numbers come
        // before text, text compares case-insensitively, and missing values come last. The order
        // must be total: `sort_by` may panic on an inconsistent one (a column mixing `2`, `10`
        // and `1a` used to be one), and a panic aborts the app.
        let key = |u: &User| {
            sort.field
                .value_of(u)
                .map(|v| (Decimal::parse(&v), lowercase(&v)))
        };
        let mut keyed: Vec<_> = users.drain(..).map(|u| (key(&u), u)).collect();
        keyed.sort_by(|(a, _), (b, _)| {
            let ord = match (a, b) {
                (None, None) => std::cmp::Ordering::Equal,
                (None, Some(_)) => return std::cmp::Ordering::Greater,
                (Some(_), None) => return std::cmp::Ordering::Less,
                (Some((Some(nx), _)), Some((Some(ny), _))) => nx.cmp_to(ny),
                (Some((Some(_), _)), Some((None, _))) => std::cmp::Ordering::Less,
                (Some((None, _)), Some((Some(_), _))) => std::cmp::Ordering::Greater,
                (Some((_, x)), Some((_, y))) => x.cmp(y),
            };
            match sort.direction {
                Direction::Asc => ord,
                Direction::Desc => ord.reverse(),
            }
        });
        users.extend(keyed.into_iter().map(|(_, u)| u));
    }
}

/// Unicode lower case, as `str::to_lowercase`. In the browser, non-ASCII text is lowered by
/// JavaScript's `toLowerCase` (the same Unicode mapping, final sigma included), so the bundle does
/// not carry Rust's case tables (~7.7 KB gzipped).
pub fn lowercase(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    #[cfg(all(target_arch = "wasm32", feature = "browser"))]
    return js_sys::JsString::from(s).to_lower_case().into();
    #[cfg(not(all(target_arch = "wasm32", feature = "browser")))]
    s.to_lowercase()
}

/// A number as written, in Rust's float syntax (`12`, `-3.5`, `1e3`, `inf`): `0.digits × 10^point`
/// with no leading or trailing zeros in `digits` (none for zero). Sorting compares the digits
/// exactly instead of parsing to `f64`, whose parser and tables would add ~15 KB gzipped to the
/// browser bundle.
#[derive(Debug)]
enum Decimal {
    NaN,
    Infinite {
        neg: bool,
    },
    Finite {
        neg: bool,
        point: i64,
        digits: Vec<u8>,
    },
}

impl Decimal {
    /// Accepts exactly what `str::parse::<f64>` accepts.
    fn parse(s: &str) -> Option<Decimal> {
        let (neg, rest) = split_sign(s);
        if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
            return Some(Decimal::Infinite { neg });
        }
        if rest.eq_ignore_ascii_case("nan") {
            return Some(Decimal::NaN);
        }
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
            return None;
        }
        let exponent = match exponent {
            Some(e) => parse_exponent(e)?,
            None => 0,
        };
        let mut digits: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
        let leading = digits.iter().take_while(|&&d| d == b'0').count();
        digits.drain(..leading);
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        if digits.is_empty() {
            return Some(Decimal::Finite {
                neg: false,
                point: 0,
                digits,
            });
        }
        // Lengths are bounded by the text; the exponent saturates far beyond f64's range.
        let point = (int.len() as i64 - leading as i64).saturating_add(exponent);
        Some(Decimal::Finite { neg, point, digits })
    }

    /// Numeric order, total: NaN comes after +inf (treating it as equal to everything, as
    /// `f64::partial_cmp` would suggest, is not a consistent order).
    fn cmp_to(&self, other: &Decimal) -> std::cmp::Ordering {
        self.rank()
            .cmp(&other.rank())
            .then_with(|| match (self, other) {
                (
                    Decimal::Finite { neg, point, digits },
                    Decimal::Finite {
                        point: p,
                        digits: d,
                        ..
                    },
                ) => {
                    let magnitude = point.cmp(p).then_with(|| digits.cmp(d));
                    if *neg { magnitude.reverse() } else { magnitude }
                }
                _ => std::cmp::Ordering::Equal,
            })
    }

    /// Sign class: -inf < negative < zero < positive < +inf < NaN.
    fn rank(&self) -> u8 {
        match self {
            Decimal::Infinite { neg: true } => 0,
            Decimal::Finite { digits, .. } if digits.is_empty() => 2,
            Decimal::Finite { neg: true, .. } => 1,
            Decimal::Finite { .. } => 3,
            Decimal::Infinite { neg: false } => 4,
            Decimal::NaN => 5,
        }
    }
}

fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// An exponent (`3`, `-12`, `+5`), saturated at ±2^40: far past where every f64 is 0 or infinite.
fn parse_exponent(e: &str) -> Option<i64> {
    const LIMIT: i64 = 1 << 40;
    let (neg, digits) = split_sign(e);
    if digits.is_empty() || !all_digits(digits) {
        return None;
    }
    let magnitude = digits
        .bytes()
        .fold(0i64, |n, d| (n * 10 + i64::from(d - b'0')).min(LIMIT));
    Some(if neg { -magnitude } else { magnitude })
}

/// Longest structure accepted: far more than any hand-written one, and it bounds the work.
const MAX_STRUCTURE_LEN: usize = 1_000;
/// Deepest parenthesis nesting accepted, so hostile input cannot exhaust the stack.
const MAX_STRUCTURE_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Number(String),
    And,
    Or,
    Open,
    Close,
}

fn invalid(message: String) -> ApiError {
    ApiError::InvalidQuery {
        message: format!("search structure: {message}"),
    }
}

/// Checks a condition structure such as `(1 or 2) and 3` against `conditions` conditions:
/// only the numbers `1..=conditions`, `and`/`or` in any case, parentheses, properly nested and
/// alternating (operand, operator, operand…). Zurmo answers a bad structure with raw SQL or
/// exception text, so the client refuses it first with a message a person can act on.
pub fn check_structure(structure: &str, conditions: usize) -> Result<(), ApiError> {
    if structure.len() > MAX_STRUCTURE_LEN {
        return Err(invalid(format!(
            "too long (at most {MAX_STRUCTURE_LEN} characters)"
        )));
    }
    let tokens = tokenize(structure)?;
    if tokens.is_empty() {
        return Err(invalid("it is empty".into()));
    }
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
        conditions,
    };
    parser.expression(0)?;
    match tokens.get(parser.at) {
        None => Ok(()),
        Some(Token::Close) => Err(invalid("a \")\" has no matching \"(\"".into())),
        Some(t) => Err(invalid(format!(
            "expected \"and\" or \"or\" before {}",
            describe(t)
        ))),
    }
}

fn tokenize(s: &str) -> Result<Vec<Token>, ApiError> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        if c == '(' {
            out.push(Token::Open);
        } else if c == ')' {
            out.push(Token::Close);
        } else if c.is_ascii_alphanumeric() {
            // A run of digits or of letters: `1or 2` reads as `1 or 2`, as Zurmo reads it.
            let digit = c.is_ascii_digit();
            let mut end = i + c.len_utf8();
            while let Some((j, d)) = chars.peek().copied() {
                if !d.is_ascii_alphanumeric() || d.is_ascii_digit() != digit {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            let word = &s[i..end];
            if word.bytes().all(|b| b.is_ascii_digit()) {
                out.push(Token::Number(word.to_string()));
            } else if word.eq_ignore_ascii_case("and") {
                out.push(Token::And);
            } else if word.eq_ignore_ascii_case("or") {
                out.push(Token::Or);
            } else {
                return Err(invalid(format!(
                    "\"{word}\" is neither a condition number nor \"and\"/\"or\""
                )));
            }
        } else {
            return Err(invalid(format!(
                "\"{c}\" is not allowed (use numbers, and, or, parentheses)"
            )));
        }
    }
    Ok(out)
}

fn describe(t: &Token) -> String {
    match t {
        Token::Number(n) => format!("\"{n}\""),
        Token::And => "\"and\"".into(),
        Token::Or => "\"or\"".into(),
        Token::Open => "\"(\"".into(),
        Token::Close => "\")\"".into(),
    }
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    conditions: usize,
}

impl Parser<'_> {
    /// expression := operand (("and" | "or") operand)*
    fn expression(&mut self, depth: usize) -> Result<(), ApiError> {
        self.operand(depth)?;
        while let Some(Token::And | Token::Or) = self.tokens.get(self.at) {
            self.at += 1;
            self.operand(depth)?;
        }
        Ok(())
    }

    /// operand := number | "(" expression ")"
    fn operand(&mut self, depth: usize) -> Result<(), ApiError> {
        match self.tokens.get(self.at) {
            Some(Token::Number(n)) => {
                self.at += 1;
                let valid = n
                    .parse::<usize>()
                    .ok()
                    .filter(|v| (1..=self.conditions).contains(v));
                match (valid, self.conditions) {
                    (Some(_), _) => Ok(()),
                    (None, 0) => Err(invalid(format!(
                        "condition {n} does not exist (there are no conditions)"
                    ))),
                    (None, 1) => Err(invalid(format!(
                        "condition {n} does not exist (there is only condition 1)"
                    ))),
                    (None, total) => Err(invalid(format!(
                        "condition {n} does not exist (conditions are numbered 1 to {total})"
                    ))),
                }
            }
            Some(Token::Open) => {
                if depth >= MAX_STRUCTURE_DEPTH {
                    return Err(invalid("parentheses are nested too deeply".into()));
                }
                self.at += 1;
                self.expression(depth + 1)?;
                match self.tokens.get(self.at) {
                    Some(Token::Close) => {
                        self.at += 1;
                        Ok(())
                    }
                    None => Err(invalid("a \"(\" is never closed".into())),
                    Some(t) => Err(invalid(format!(
                        "expected \"and\", \"or\" or \")\" before {}",
                        describe(t)
                    ))),
                }
            }
            Some(t) => Err(invalid(format!(
                "expected a condition number or \"(\" before {}",
                describe(t)
            ))),
            None => Err(invalid(
                "it ends where a condition number was expected".into(),
            )),
        }
    }
}

// Native only: the property test needs proptest, a native-only dev-dependency.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod decimal_tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Ordering::{self, Equal, Greater, Less};

    fn exact(a: &str, b: &str) -> Option<Ordering> {
        Some(Decimal::parse(a)?.cmp_to(&Decimal::parse(b)?))
    }

    /// What the sort did before: parse both to f64.
    fn by_f64(a: &str, b: &str) -> Option<Ordering> {
        match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(x), Ok(y)) => Some(x.partial_cmp(&y).unwrap_or(Equal)),
            _ => None,
        }
    }

    fn number_like() -> impl Strategy<Value = String> {
        prop_oneof![
            "[+-]?[0-9]{0,5}(\\.[0-9]{0,5})?([eE][+-]?[0-9]{0,3})?",
            "[+-]?(inf|INF|Infinity|nan|NaN|infinit)",
            "[0-9.eE+ -]{0,6}",
            any::<f64>().prop_map(|f| f.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            ".{0,4}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// The same syntax as f64 parsing, and the same order wherever the two f64 values differ
        /// (distinct decimals that round to one f64 may be ordered where f64 says equal).
        #[test]
        fn agrees_with_f64(a in number_like(), b in number_like()) {
            let (e, f) = (exact(&a, &b), by_f64(&a, &b));
            prop_assert_eq!(e.is_some(), f.is_some(), "{:?} vs {:?}", a, b);
            if let (Some(e), Some(f)) = (e, f)
                && f != Equal
            {
                prop_assert_eq!(e, f, "{:?} vs {:?}", a, b);
            }
        }
    }

    #[test]
    fn examples() {
        for (a, b, want) in [
            ("9", "10", Some(Less)),
            ("-9", "-10", Some(Greater)),
            ("1e3", "999.5", Some(Greater)),
            ("0.0", "-0", Some(Equal)),
            ("007", "7.000", Some(Equal)),
            (".5", "5.", Some(Less)),
            ("-inf", "-1e308", Some(Less)),
            ("nan", "1", Some(Greater)),
            ("NaN", "-nan", Some(Equal)),
            ("12345678901234567890", "12345678901234567891", Some(Less)),
            ("1e", "1", None),
            ("abc", "1", None),
            (" 1", "1", None),
            ("", "1", None),
        ] {
            assert_eq!(exact(a, b), want, "{a:?} vs {b:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: u64, name: &str, email: Option<&str>) -> User {
        User {
            id,
            display_name: name.into(),
            email: email.map(Into::into),
            ..User::default()
        }
    }

    #[test]
    fn client_side_filter_any_all() {
        let u = user(3, "Zoë Adams", Some("zoe@example.com"));
        assert!(UserQuery::default().text("zoë").matches(&u));
        assert!(!UserQuery::default().text("bob").matches(&u));
        let q = UserQuery::default()
            .with(UserField::Email, Op::Equals, "ZOE@example.com")
            .with(UserField::Id, Op::Equals, "9");
        assert!(!q.matches(&u));
        assert!(q.clone().matching(Match::Any).matches(&u));
        assert!(
            UserQuery::default()
                .with(UserField::Id, Op::In, "1, 3")
                .matches(&u)
        );
        assert!(
            UserQuery::default()
                .with(UserField::DisplayName, Op::StartsWith, "zo")
                .matches(&u)
        );
        assert!(
            UserQuery::default()
                .with(UserField::Email, Op::Equals, "  ")
                .matches(&u)
        );
    }

    #[test]
    fn client_side_sort_numeric_and_missing_last() {
        let mut users = vec![
            user(10, "b", None),
            user(9, "A", Some("x")),
            user(100, "c", Some("a")),
        ];
        UserQuery::default()
            .sorted(UserField::Id, Direction::Asc)
            .sort_users(&mut users);
        assert_eq!(users.iter().map(|u| u.id).collect::<Vec<_>>(), [9, 10, 100]);
        UserQuery::default()
            .sorted(UserField::Email, Direction::Desc)
            .sort_users(&mut users);
        assert_eq!(users.iter().map(|u| u.id).collect::<Vec<_>>(), [9, 100, 10]);
    }

    #[test]
    fn client_side_sort_of_mixed_numbers_and_text_is_total() {
        // Before, `2` < `10` as numbers, `10` < `1a` and `1a` < `2` as text: an inconsistent
        // order, which `sort_by` may answer with a panic. 300 users make a merge sort likely.
        let pool = [
            "2", "10", "1a", "-3.5", "NaN", "x", "1B", "inf", "20", "9x", "0",
        ];
        let mut users: Vec<User> = (0..300)
            .map(|i| User {
                id: i,
                username: Some(pool[(i as usize * 7 + i as usize / 5) % pool.len()].into()),
                ..User::default()
            })
            .collect();
        UserQuery::default()
            .sorted(UserField::Username, Direction::Asc)
            .sort_users(&mut users);
        let mut order: Vec<&str> = users.iter().filter_map(|u| u.username.as_deref()).collect();
        order.dedup();
        assert_eq!(
            order,
            [
                "-3.5", "0", "2", "10", "20", "inf", "NaN", "1a", "1B", "9x", "x"
            ]
        );
    }

    fn err(s: &str, n: usize) -> String {
        match check_structure(s, n) {
            Err(ApiError::InvalidQuery { message }) => message,
            other => panic!("{s:?}: {other:?}"),
        }
    }

    #[test]
    fn structures_that_are_valid() {
        for s in [
            "1",
            "(1 or 2) and 3",
            "1 AND 2 Or 3",
            "((1))",
            "1 and (2 or (3 and 1))",
            "  (1or 2)and 3 ",
        ] {
            assert_eq!(check_structure(s, 3), Ok(()), "{s}");
        }
    }

    #[test]
    fn structures_that_are_refused_say_why() {
        assert!(err("1 or 4", 3).contains("condition 4 does not exist"));
        assert!(err("0", 3).contains("condition 0 does not exist"));
        assert!(err("1", 0).contains("no conditions"));
        assert!(err("(1 or 2", 3).contains("never closed"));
        assert!(err("1 or 2)", 3).contains("no matching"));
        assert!(err("1 2", 3).contains("expected \"and\" or \"or\""));
        assert!(err("1 and", 3).contains("ends where"));
        assert!(err("and 1", 3).contains("expected a condition number"));
        assert!(err("()", 3).contains("expected a condition number"));
        assert!(err("1 xor 2", 3).contains("\"xor\""));
        assert!(err("1 && 2", 3).contains("\"&\" is not allowed"));
        assert!(err("1; DROP", 3).contains("not allowed"));
        assert!(err("", 3).contains("empty"));
        assert!(err(&"(".repeat(40), 3).contains("nested too deeply"));
        assert!(err(&"1 or ".repeat(300), 3).contains("too long"));
        assert!(err("99999999999999999999999", 3).contains("does not exist"));
    }

    #[test]
    fn checked_structure_counts_active_conditions_only() {
        let q = UserQuery::default()
            .with(UserField::Username, Op::StartsWith, "a")
            .with(UserField::Username, Op::StartsWith, " ")
            .with(UserField::Username, Op::StartsWith, "b");
        assert_eq!(
            q.clone().structured("1 or 2").checked_structure(),
            Ok(Some("1 or 2"))
        );
        assert!(q.clone().structured("1 or 3").checked_structure().is_err());
        assert_eq!(q.clone().structured("  ").checked_structure(), Ok(None));
        assert_eq!(q.checked_structure(), Ok(None));
    }
}
