//! Telling every task to stop. A [`Shutdown`] is a cheap, cloneable view of one flag that a
//! [`Trigger`] sets once: on SIGTERM or Ctrl-C ([`Shutdown::on_signals`]), when a test says so,
//! or when one part of the daemon meets an error the others cannot work past.

use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct Shutdown {
    flag: watch::Receiver<bool>,
}

#[derive(Debug, Clone)]
pub struct Trigger {
    flag: std::sync::Arc<watch::Sender<bool>>,
}

impl Trigger {
    pub fn fire(&self) {
        self.flag.send_replace(true);
    }
}

impl Shutdown {
    pub fn new() -> (Trigger, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (
            Trigger {
                flag: std::sync::Arc::new(tx),
            },
            Shutdown { flag: rx },
        )
    }

    /// A shutdown that never comes (one-shot commands).
    pub fn never() -> Shutdown {
        Shutdown::new().1
    }

    /// Fired by SIGTERM or Ctrl-C. The handlers are installed before this returns; a signal
    /// held since start ([`hold_stop_signals`]) is delivered to them then, so a stop that comes
    /// while the program is still starting is neither lost nor fatal.
    pub fn on_signals() -> Shutdown {
        let (trigger, shutdown) = Shutdown::new();
        let signal = install_signal_handlers();
        release_stop_signals();
        tokio::spawn(async move {
            signal.await;
            tracing::info!("stop requested");
            trigger.fire();
        });
        shutdown
    }

    /// Fired when `done` resolves.
    pub fn when(done: impl std::future::Future<Output = ()> + Send + 'static) -> Shutdown {
        let (trigger, shutdown) = Shutdown::new();
        tokio::spawn(async move {
            done.await;
            trigger.fire();
        });
        shutdown
    }

    pub fn is_fired(&self) -> bool {
        *self.flag.borrow()
    }

    /// Resolves once the flag is set (at once if it already is).
    pub async fn fired(&self) {
        let mut flag = self.flag.clone();
        // An error means every trigger is gone without firing: then it never comes.
        if flag.wait_for(|set| *set).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Keeps SIGTERM and SIGINT pending instead of acted on, from the program's first instant until
/// [`Shutdown::on_signals`] has its handlers in place (or [`release_stop_signals`]: commands
/// that take the default action). Threads started meanwhile inherit the hold.
pub fn hold_stop_signals() {
    #[cfg(unix)]
    set_stop_signals_held(true);
}

/// Lets held SIGTERM and SIGINT through (to the handlers, or to their default action).
pub fn release_stop_signals() {
    #[cfg(unix)]
    set_stop_signals_held(false);
}

#[cfg(unix)]
fn set_stop_signals_held(held: bool) {
    let how = if held {
        libc::SIG_BLOCK
    } else {
        libc::SIG_UNBLOCK
    };
    // SAFETY: `set` is initialised by sigemptyset before use, and pthread_sigmask only changes
    // this thread's signal mask; no memory is shared with the call beyond these locals.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(how, &set, std::ptr::null_mut());
    }
}

/// Registers SIGTERM and SIGINT now; the returned future resolves on the first of them.
fn install_signal_handlers() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                (Ok(mut one), Err(_)) | (Err(_), Ok(mut one)) => {
                    one.recv().await;
                }
                (Err(e), Err(_)) => {
                    tracing::error!(error = %e, "cannot install signal handlers; stop with kill -9");
                    std::future::pending::<()>().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_view_sees_the_one_trigger() {
        let (trigger, shutdown) = Shutdown::new();
        let other = shutdown.clone();
        assert!(!other.is_fired());
        trigger.fire();
        other.fired().await;
        shutdown.fired().await;
        assert!(shutdown.is_fired());
    }
}
