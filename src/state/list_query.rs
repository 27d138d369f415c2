//! The users list's query as it lives in the URL (`?q=…&sort=…&dir=…&page=…&size=…`, plus the
//! advanced search's `c=…`, `match=any` and Zurmo's `structure=(1 or 2) and 3`), so a
//! reload, back/forward or a shared link shows the same list, and its translation to the client's
//! [`UserQuery`]. Which fields can be sorted or searched is the client's answer
//! (`provider::can_sort`, `provider::search_ops`), so the wire rules stay in the client.

use userdeck_client::provider;
use userdeck_client::{
    ApiError, Condition, Direction, FieldKind, FieldSpec, Match, Op, Provider, Schema, Sort,
    UserField, UserQuery, check_structure,
};

/// Page sizes offered in the pager.
pub const PAGE_SIZES: [u32; 4] = [10, 25, 50, 100];
/// Page size used when the URL names none.
pub const DEFAULT_PAGE_SIZE: u32 = 25;

/// One advanced-search condition as the URL carries it (`c=field~op~value`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionParam {
    /// A schema key of the connection's provider.
    pub field: String,
    pub op: Op,
    pub value: String,
}

/// Everything that decides which users the list shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListParams {
    pub q: String,
    /// Schema key of the sort column.
    pub sort: Option<String>,
    pub dir: Direction,
    pub page: u32,
    pub size: u32,
    pub conditions: Vec<ConditionParam>,
    pub match_any: bool,
    /// A custom way to combine the conditions (`(1 or 2) and 3`, Zurmo only); empty means the
    /// all/any default.
    pub structure: String,
}

impl Default for ListParams {
    fn default() -> Self {
        ListParams {
            q: String::new(),
            sort: None,
            dir: Direction::Asc,
            page: 1,
            size: DEFAULT_PAGE_SIZE,
            conditions: Vec::new(),
            match_any: false,
            structure: String::new(),
        }
    }
}

/// Short names of operators for the URL.
pub fn op_name(op: Op) -> &'static str {
    match op {
        Op::Equals => "eq",
        Op::Contains => "like",
        Op::StartsWith => "starts",
        Op::In => "in",
    }
}

/// Words for operators in the advanced panel.
pub fn op_label(op: Op) -> &'static str {
    match op {
        Op::Equals => "is",
        Op::Contains => "contains",
        Op::StartsWith => "starts with",
        Op::In => "is one of",
    }
}

fn parse_op(s: &str) -> Option<Op> {
    [Op::Equals, Op::Contains, Op::StartsWith, Op::In]
        .into_iter()
        .find(|op| op_name(*op) == s)
}

impl ListParams {
    /// Reads the URL's query pairs; anything malformed falls back to the default for that part.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> ListParams {
        let mut p = ListParams::default();
        for (key, value) in pairs {
            match key {
                "q" => p.q = value.to_string(),
                "sort" if !value.is_empty() => p.sort = Some(value.to_string()),
                "dir" => {
                    p.dir = if value == "desc" {
                        Direction::Desc
                    } else {
                        Direction::Asc
                    }
                }
                "page" => p.page = value.parse().ok().filter(|n| *n >= 1).unwrap_or(1),
                "size" => {
                    p.size = value
                        .parse()
                        .ok()
                        .filter(|n| PAGE_SIZES.contains(n))
                        .unwrap_or(DEFAULT_PAGE_SIZE)
                }
                "match" => p.match_any = value == "any",
                "structure" => p.structure = value.trim().to_string(),
                "c" => {
                    let mut parts = value.splitn(3, '~');
                    if let (Some(field), Some(op), Some(v)) =
                        (parts.next(), parts.next().and_then(parse_op), parts.next())
                    {
                        p.conditions.push(ConditionParam {
                            field: field.to_string(),
                            op,
                            value: v.to_string(),
                        });
                    }
                }
                _ => {}
            }
        }
        p
    }

    /// The URL query string (without `?`), leaving out defaults so links stay short.
    pub fn to_query_string(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.q.trim().is_empty() {
            pairs.push(("q", self.q.clone()));
        }
        if let Some(sort) = &self.sort {
            pairs.push(("sort", sort.clone()));
            if self.dir == Direction::Desc {
                pairs.push(("dir", "desc".into()));
            }
        }
        if self.page > 1 {
            pairs.push(("page", self.page.to_string()));
        }
        if self.size != DEFAULT_PAGE_SIZE {
            pairs.push(("size", self.size.to_string()));
        }
        for c in &self.conditions {
            pairs.push(("c", format!("{}~{}~{}", c.field, op_name(c.op), c.value)));
        }
        if self.match_any && !self.conditions.is_empty() {
            pairs.push(("match", "any".into()));
        }
        if !self.structure.trim().is_empty() && !self.conditions.is_empty() {
            pairs.push(("structure", self.structure.trim().to_string()));
        }
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The client query for these parameters, for `schema`'s provider; `fields` are the columns
    /// to fetch where the CRM can select columns.
    pub fn to_query(&self, schema: &Schema, fields: Vec<UserField>) -> UserQuery {
        let conditions = self
            .conditions
            .iter()
            .filter(|c| !c.value.trim().is_empty())
            .map(|c| Condition::new(field_of(schema, &c.field), c.op, c.value.trim()))
            .collect();
        UserQuery {
            text: Some(self.q.trim().to_string()).filter(|t| !t.is_empty()),
            conditions,
            match_mode: if self.match_any {
                Match::Any
            } else {
                Match::All
            },
            sort: self
                .sort
                .as_ref()
                .filter(|_| self.unknown_sort(schema).is_none())
                .map(|key| Sort {
                    field: field_of(schema, key),
                    direction: self.dir,
                }),
            page: self.page.max(1),
            page_size: self.size,
            fields,
            // Only a CRM that takes a structure gets one (a hand-edited URL elsewhere is ignored).
            structure: Some(self.structure.trim().to_string())
                .filter(|s| !s.is_empty() && schema.provider.capabilities().custom_structure),
        }
    }

    /// The client query of the users list that shows `columns` (schema keys): what the users
    /// page asks for, and what the app asks for early on a page load (`state::first_list`).
    /// Both go through here so that they ask for the same list.
    pub fn list_query(&self, schema: &Schema, columns: &[String]) -> UserQuery {
        self.to_query(schema, selected_fields(schema, columns))
    }

    /// The sort key of a link that names no column the CRM can sort by (`?sort=nonsense`, or
    /// Zurmo's `?sort=email` for its `primaryEmail.emailAddress`). Sent as it is, App CRM would
    /// answer with a 500 and Zurmo with an SQL error, so [`ListParams::to_query`] leaves it out
    /// and the page says so.
    pub fn unknown_sort(&self, schema: &Schema) -> Option<&str> {
        let key = self.sort.as_deref()?;
        let sortable = schema
            .field(key)
            .is_some_and(|_| provider::can_sort(schema.provider, &field_of(schema, key)));
        (!sortable).then_some(key)
    }

    /// The parameters after clicking the header of `key`: a new column sorts ascending, the
    /// current one flips direction; either way the list goes back to page 1.
    pub fn toggled_sort(&self, key: &str) -> ListParams {
        let dir = match (&self.sort, self.dir) {
            (Some(current), Direction::Asc) if current == key => Direction::Desc,
            _ => Direction::Asc,
        };
        ListParams {
            sort: Some(key.to_string()),
            dir,
            page: 1,
            ..self.clone()
        }
    }
}

/// The structure the all/any choice means for `count` conditions (`1 and 2 and 3`), the starting
/// point of Zurmo's editable structure.
pub fn default_structure(count: usize, any: bool) -> String {
    let joiner = if any { " or " } else { " and " };
    (1..=count)
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(joiner)
}

/// The client's verdict on a structure over `count` conditions: `None` when it is fine, else the
/// sentence to show next to the field.
pub fn structure_error(structure: &str, count: usize) -> Option<String> {
    match check_structure(structure.trim(), count) {
        Ok(()) => None,
        Err(ApiError::InvalidQuery { message }) => Some(message),
        Err(other) => Some(other.to_string()),
    }
}

/// The unified field behind a schema key (a native attribute when the schema names none).
pub fn field_of(schema: &Schema, key: &str) -> UserField {
    schema
        .field(key)
        .and_then(|f| f.field.clone())
        .unwrap_or_else(|| UserField::Native(key.to_string()))
}

/// The fields to fetch for `columns` where the CRM fetches only what it is asked for (App CRM's
/// `select`), and only when every column is a plain value; empty means every field.
fn selected_fields(schema: &Schema, columns: &[String]) -> Vec<UserField> {
    if schema.provider != Provider::AppCrm {
        return Vec::new();
    }
    let plain = columns.iter().filter_map(|k| schema.field(k)).all(|f| {
        !matches!(
            f.kind,
            FieldKind::List | FieldKind::Html | FieldKind::Password
        ) && !f.key.contains('.')
    });
    if !plain {
        return Vec::new();
    }
    columns.iter().map(|k| field_of(schema, k)).collect()
}

/// Whether the CRM can sort on this column (the client's rule; Capsule sorts on the client).
pub fn can_sort(provider: Provider, spec: &FieldSpec) -> bool {
    provider::can_sort(provider, &field_of(&Schema::of(provider), spec.key))
}

/// The operators the CRM supports on a field (empty: the field cannot be searched).
pub fn search_ops(provider: Provider, spec: &FieldSpec) -> Vec<Op> {
    provider::search_ops(provider, &field_of(&Schema::of(provider), spec.key))
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass unchanged).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
