//! One integration-test binary for the whole suite (one link step, shared helpers).

mod support;
mod cli;
mod corpus;
mod fetch;
mod pipeline;
mod daemon;
mod store;
