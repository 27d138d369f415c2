//! App-wide state shared through Leptos context: the known connections, their clients and
//! statuses, toasts, and the users list's URL query.

pub mod columns;
pub mod connections;
pub mod first_list;
pub mod keyed;
pub mod list_query;
pub mod selection;
pub mod session;
pub mod storage;
pub mod toast;
