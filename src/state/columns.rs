//! The users table's chosen columns, remembered per connection in `localStorage` (field keys
//! only). Read before anything renders too, when the first list is asked for early.

use userdeck_client::{FieldKind, Schema};

use crate::state::storage::{self, Store};

fn key(connection: &str) -> String {
    format!("userdeck.columns.{connection}")
}

/// The remembered columns of a connection, or the schema's defaults; unknown keys are dropped.
pub fn load_columns(connection: &str, schema: &Schema) -> Vec<String> {
    let stored: Option<Vec<String>> = storage::get_json(Store::Local, &key(connection));
    let valid: Vec<String> = stored
        .unwrap_or_default()
        .into_iter()
        .filter(|k| {
            schema
                .field(k)
                .is_some_and(|f| f.kind != FieldKind::Password)
        })
        .collect();
    if valid.is_empty() {
        schema.columns().map(|f| f.key.to_string()).collect()
    } else {
        valid
    }
}

/// Remembers a connection's columns.
pub fn save_columns(connection: &str, columns: &[String]) {
    storage::set_json(Store::Local, &key(connection), &columns);
}
