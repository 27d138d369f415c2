//! Proxy (being built).
