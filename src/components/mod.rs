//! Reusable pieces of the interface.

pub mod connection_list;
pub mod layout;
