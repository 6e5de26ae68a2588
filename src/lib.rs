//! cutover: a live terminal console for blue-green and canary releases on plain Kubernetes
//! objects. The layers are re-exported here for the tests.
//!
//! # A map of the crate
//!
//! Four layers, each with one job, and the command line over them. `release` is pure; cluster
//! I/O lives in `cluster` (and the server side in `embedded`); `console` does only terminal and
//! config-file I/O.
//!
//! - [`release`] — the domain, pure (no I/O, no async): the same objects and op always give the
//!   same result.
//!   - `discover/`: which releases a [`release::Snapshot`] holds. `objects` reads each object once
//!     into compact rows, `index` groups them (names, labels, Pods to Deployments), and one
//!     module per release pattern (`selector_switch`, `ingress_switch`, `nginx_canary`) finds its
//!     releases behind one interface; `assembly` builds every [`release::Release`] the same way.
//!   - `plan/`: what an [`release::plan::Op`] would change, as a [`release::plan::Plan`] of steps,
//!     each with its precondition, and the Event to record; one module per pattern and per kind
//!     of move; `reach` says whether a track still takes requests (exact share and header/cookie
//!     rules), which every "no traffic" interlock asks; `refusal` says why an op cannot be planned.
//!   - `model` (releases, tracks, stages, traffic), `kind` (the kinds a plan writes and their REST
//!     resources), `record` (the `cutover.dev/*` annotations, times parsed once), `image` (image
//!     references), `labels` (label sets as selector text), `status` (`cutover status` as JSON
//!     and a table).
//! - [`cluster`] — kube I/O: connecting from the kubeconfig, `feed` (watches kept in
//!   per-namespace snapshots, discovery re-run, an immutable view sent on), `apply` (the executor:
//!   each step as a patch with its resourceVersion precondition, then the Event), `access`
//!   (SelfSubjectAccessReviews).
//! - [`console`] — the terminal UI: `app` (state, modes, `update`), `keymap` (the key map read
//!   from `keys.toml`, laid under the user's), `draw` (pure functions of the app and the theme),
//!   `theme` (`themes/*.toml`), `terminal` (restored on every exit path), and the event loop.
//! - [`embedded`] — a Kubernetes API server over real HTTP with simulated controllers, for
//!   `cutover demo` and the tests.
//! - [`cli`] — the command line: the console, `demo`, `status` and one-shot actions with exit
//!   codes; [`paths`] — the config and cache directories; [`heap`] — the allocator and when
//!   it hands memory back.
//!
//! # A key to a PATCH and back
//!
//! 1. The event loop (`console::run`) turns a terminal key into `Msg::Press`; `App::update`
//!    hands it to the handler of the current `Mode` (browse, filter, help, prompt, confirm).
//! 2. In browse mode the key map names a `Command`; a writing command's `Command::op()` is an
//!    `Op`, which `release::plan::plan` turns into a `Plan` (or a typed refusal), checked against
//!    the permissions the feed asked the cluster for. The plan opens `Mode::Confirm`, which shows
//!    its exact steps.
//! 3. Confirmed, `update` returns `Effect::Apply(plan)`. Only a console built with a `Writer`
//!    (never a read-only one) sends it: `cluster::apply` sends each step with its precondition
//!    (a 409 re-plans on the fresh objects and asks again), then writes the Event, reporting
//!    `Msg::Progress` and `Msg::Applied`.
//! 4. The screen does not guess: the API server's watch echoes the change back (below).
//!
//! # A watch event to a frame
//!
//! 1. `cluster::feed` keeps Deployments, Services and Ingresses watched cluster-wide, and Pods
//!    and Events only for the focused release; a change marks its namespace dirty.
//! 2. The feed re-runs discovery for the dirty namespaces and publishes a new immutable
//!    `ClusterView` (releases, snapshots, permissions, connection state).
//! 3. The event loop passes it to `App::update` as `Msg::View`; update rebuilds the rows and
//!    works out what the detail shows (actions allowed now, the next step, the gate deadline).
//! 4. At most every 50 ms, and only when something changed, `console::draw` renders the app
//!    with the theme into a frame; draw reads, it never plans, awaits or locks.

pub mod cli;
pub mod cluster;
pub mod console;
pub mod embedded;
pub mod heap;
pub mod paths;
pub mod release;
