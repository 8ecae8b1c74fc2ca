//! Shared test helpers: the local HTTP server, temp stores, fixtures.
#![allow(dead_code)]

pub mod bin;
pub mod discord;
pub mod fixture;
pub mod http;
