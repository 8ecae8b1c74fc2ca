//! Where commands print. Results go to standard output through a writer whose errors are
//! returned (`println!` panics on them), and a closed pipe (`newsdesk feeds list | head -5`)
//! ends the command quietly with success: the reader asked for no more. Rust ignores SIGPIPE,
//! so the closed pipe shows up as a `BrokenPipe` write error; this module is the one place that
//! turns it into the quiet exit a C tool gets from SIGPIPE.

use std::io::{self, BufWriter, Stdout};

/// Standard output for a command's results, buffered. The caller flushes it and passes errors on.
pub fn stdout() -> BufWriter<Stdout> {
    BufWriter::new(io::stdout())
}

/// Whether a write failed because nobody reads standard output any more.
pub fn is_closed_pipe(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::BrokenPipe
}

/// Whether a command's error comes from a closed pipe anywhere in its chain.
pub fn ended_by_closed_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<io::Error>())
        .any(is_closed_pipe)
}

/// Ends the process as a closed pipe should, for writers whose callers cannot stop on an error
/// (the terminal digest sink, whose errors the delivery loop logs and retries): quietly, with
/// success. Anything recorded as pending before the write stays pending and is sent again.
pub fn exit_on_closed_pipe() -> ! {
    std::process::exit(0)
}
