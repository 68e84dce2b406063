//! The questions faultline answers over its store — what changed, one incident's timeline, a
//! post-mortem draft, search, SQL — and the HTTP API that serves them. The CLI asks the same
//! functions directly when no server is given.

pub mod changes;
pub mod error;
pub mod incidents;
mod rows;

pub use changes::{Analyst, ChangesQuery, Resolver};
pub use error::ApiError;
pub mod http;
mod sql_output;
