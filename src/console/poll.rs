//! The golden signals' poller: while a release is selected and a Prometheus is configured, it
//! asks for the release's signals at once and then every step of the range (no new point can
//! appear sooner), each fetch under the settings' timeout, and sends each answer, or why there
//! is none, to the event loop as [`Msg::Signals`]. It is a task of its own, so a slow or
//! failing Prometheus never delays a frame or a key.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::app::{Msg, SignalsAnswer};
use crate::cluster::feed::ClusterView;
use crate::cluster::metrics::{Prometheus, Settings};
use crate::release::signals::Signals;

/// The shortest time between two fetches of one release, whatever the step.
const LEAST_INTERVAL: Duration = Duration::from_secs(5);

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
    loop {
        let release = views.borrow_and_update().release(&id).cloned();
        let Some(release) = release else {
            // Not in the view (yet, or any more): asked again once the view changes.
            if views.changed().await.is_err() {
                return;
            }
            continue;
        };
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
        tokio::time::sleep(every).await;
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
