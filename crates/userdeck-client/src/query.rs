//! What to list: free text, per-field conditions with any/all matching, sort, paging and field
//! selection, in provider-neutral terms. Providers translate it (App CRM `q`/`search_fields`,
//! Zurmo `search[…]`/`dynamicSearch`); for Capsule it is applied on the client by [`UserQuery::matches`].

use serde::{Deserialize, Serialize};

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
        let actual = actual.to_lowercase();
        let wanted = self.value.to_lowercase();
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
            let t = text.to_lowercase();
            let hit = [
                Some(&user.display_name),
                user.username.as_ref(),
                user.email.as_ref(),
            ]
            .into_iter()
            .flatten()
            .any(|v| v.to_lowercase().contains(&t));
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
    pub fn sort_users(&self, users: &mut [User]) {
        let Some(sort) = &self.sort else { return };
        users.sort_by(|a, b| {
            let (va, vb) = (sort.field.value_of(a), sort.field.value_of(b));
            let ord = match (&va, &vb) {
                (None, None) => std::cmp::Ordering::Equal,
                (None, Some(_)) => return std::cmp::Ordering::Greater,
                (Some(_), None) => return std::cmp::Ordering::Less,
                (Some(x), Some(y)) => match (x.parse::<f64>(), y.parse::<f64>()) {
                    (Ok(nx), Ok(ny)) => nx.partial_cmp(&ny).unwrap_or(std::cmp::Ordering::Equal),
                    _ => x.to_lowercase().cmp(&y.to_lowercase()),
                },
            };
            match sort.direction {
                Direction::Asc => ord,
                Direction::Desc => ord.reverse(),
            }
        });
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
}
