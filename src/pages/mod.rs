//! One module per routed screen.

pub mod home;
pub mod not_found;
pub mod users;
