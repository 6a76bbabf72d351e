//! The service manager's side channel (`sd_notify`): `READY=1` once the socket
//! accepts, `RELOADING=1` around a config reload, `STATUS=` lines, `WATCHDOG=1`
//! pings and `STOPPING=1`. Every call is a
//! no-op when `NOTIFY_SOCKET` is unset.

use std::time::Duration;

use sd_notify::NotifyState;
use tokio_util::sync::CancellationToken;

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "sd_notify failed");
    }
}

pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// A reload begins (`RELOADING=1` with the monotonic clock, as `Type=notify-reload`
/// wants); [`ready`] ends it.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now, NotifyState::Status("reloading the configuration")]),
        Err(_) => send(&[NotifyState::Reloading, NotifyState::Status("reloading the configuration")]),
    }
}

pub fn stopping(status: &str) {
    send(&[NotifyState::Stopping, NotifyState::Status(status)]);
}

/// Pings the watchdog at half of `WATCHDOG_USEC` until `stop` fires. The pings
/// come from the async runtime, so a wedged runtime stops them and the service
/// manager restarts us.
pub fn spawn_watchdog(stop: CancellationToken) {
    let Some(timeout) = sd_notify::watchdog_enabled() else {
        return;
    };
    let period = (timeout / 2).max(Duration::from_millis(10));
    tracing::info!(?period, "systemd watchdog enabled");
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        loop {
            tokio::select! {
                _ = tick.tick() => send(&[NotifyState::Watchdog]),
                () = stop.cancelled() => break,
            }
        }
    });
}
