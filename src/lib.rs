//! cutover: a live terminal console for blue-green and canary releases on plain Kubernetes
//! objects. The layers are re-exported here for the tests.

pub mod cli;
pub mod cluster;
pub mod console;
pub mod embedded;
pub mod paths;
pub mod release;
