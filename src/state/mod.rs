//! App-wide state shared through Leptos context: the known connections and how loading them went.

pub mod connections;
