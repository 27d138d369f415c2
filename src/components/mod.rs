//! Reusable pieces of the interface.

pub mod advanced_search;
pub mod bulk_delete;
pub mod column_picker;
pub mod connection_form;
pub mod connection_list;
pub mod csv_export;
pub mod dialog;
pub mod field_value;
pub mod focus;
pub mod formats;
pub mod layout;
pub mod pager;
pub mod search_bar;
pub mod shortcuts;
pub mod sign_in;
pub mod status_chip;
pub mod user_form;
pub mod user_picker;
pub mod users_table;
pub mod when;
