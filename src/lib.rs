//! Campaign Console: orchestrated marketing campaigns over relational customer data, with
//! exact counts before anything is sent. See DESIGN.md for the product and the module map.
//!
//! Dependencies run one way: `model` ← `store` / `secrets` ← `console` ← `ui` and the binary.

pub mod audience;
pub mod channels;
pub mod clock;
pub mod console;
pub mod delivery;
pub mod demo;
pub mod import;
pub mod model;
pub mod personalize;
pub mod schedule;
pub mod secrets;
pub mod server;
pub mod store;
pub mod ui;

pub use console::{Command, Console, ConsoleOptions, Event, SecretsChoice};
