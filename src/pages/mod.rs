//! One module per routed screen.

pub mod connections;
pub mod home;
pub mod me;
pub mod not_found;
pub mod user_detail;
pub mod user_edit;
pub mod users;
