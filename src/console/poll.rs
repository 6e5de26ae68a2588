//! The golden signals' poller: while a release is selected and a Prometheus is configured, it
//! asks for the release's signals at once, again every step of the range (no new point can
//! appear sooner), and again as soon as the release changes (an image rolled out, a weight
//! moved, pods replaced: its `signals::basis`), at most once a second; each fetch under the
//! settings' timeout. Each answer, or why there is none, goes to the event loop as
//! [`Msg::Signals`]. It is a task of its own, so a slow or failing Prometheus never delays a
//! frame or a key.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::app::{Msg, SignalsAnswer};
use crate::cluster::feed::ClusterView;
use crate::cluster::metrics::{Prometheus, Settings};
use crate::release::signals::{Signals, basis};

/// The shortest time between two fetches of one release on the clock, whatever the step.
const LEAST_INTERVAL: Duration = Duration::from_secs(5);

/// The shortest time between two fetches of one release that changed.
const LEAST_AFTER_CHANGE: Duration = Duration::from_secs(1);

/// A running poller; dropping it stops it.
pub(super) struct SignalsPoll(tokio::task::AbortHandle);

impl Drop for SignalsPoll {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts polling Prometheus (as `settings` says, through `client` for a service proxy) for
/// the release `id` as the latest of `views` has it.
pub(super) fn start(
    settings: &Settings,
    client: &kube::Client,
    id: String,
    views: watch::Receiver<Arc<ClusterView>>,
    tx: mpsc::UnboundedSender<Msg>,
) -> SignalsPoll {
    let every = settings.step.max(LEAST_INTERVAL);
    let prometheus = Prometheus::from_settings(settings.clone(), Some(client));
    let task = tokio::spawn(async move {
        let prometheus = match prometheus {
            Ok(p) => p,
            Err(e) => {
                send(
                    &tx,
                    &id,
                    Signals::Failed {
                        why: e.to_string(),
                        last: None,
                    },
                );
                return;
            }
        };
        poll(prometheus, id, views, tx, every).await;
    });
    SignalsPoll(task.abort_handle())
}

async fn poll(
    prometheus: Prometheus,
    id: String,
    mut views: watch::Receiver<Arc<ClusterView>>,
    tx: mpsc::UnboundedSender<Msg>,
    every: Duration,
) {
    // The basis last asked for, when the last fetch was, and when the next is due.
    let (mut asked, mut last, mut due) = (None, None::<Instant>, Instant::now());
    loop {
        let release = views.borrow_and_update().release(&id).cloned();
        // A change that came too soon after a fetch waits for the rest of the second; a
        // release not in the view (yet, or any more) waits for the view to have it.
        let mut wake = None;
        if let Some(release) = release {
            wake = Some(due);
            let now_basis = basis(&release);
            let changed = asked != Some(now_basis);
            let spaced_at = last.map(|at| at + LEAST_AFTER_CHANGE);
            if (changed && spaced_at.is_none_or(|at| Instant::now() >= at)) || Instant::now() >= due
            {
                let signals = match prometheus.fetch(&release, jiff::Timestamp::now()).await {
                    Ok(s) => Signals::Ready(s),
                    Err(e) => Signals::Failed {
                        why: e.to_string(),
                        last: None,
                    },
                };
                if !send(&tx, &id, signals) {
                    return;
                }
                let at = Instant::now();
                (asked, last, due) = (Some(now_basis), Some(at), at + every);
                continue;
            }
            if let (true, Some(at)) = (changed, spaced_at) {
                wake = Some(due.min(at));
            }
        }
        let timer = async {
            match wake {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = timer => {}
            changed = views.changed() => if changed.is_err() { return },
        }
    }
}

/// Sends an answer; false when the event loop is gone.
fn send(tx: &mpsc::UnboundedSender<Msg>, id: &str, signals: Signals) -> bool {
    let answer = SignalsAnswer {
        release: id.to_string(),
        signals,
    };
    tx.send(Msg::Signals(Box::new(answer))).is_ok()
}
