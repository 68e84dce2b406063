//! Online log-template mining for faultline.
//!
//! [`TemplateMiner`] learns message templates from a stream of log messages
//! (the message part of each line, without timestamp or level) and assigns
//! each message the id of its template. It needs no per-dataset
//! configuration: variables are found by a fixed set of hand-written maskers
//! ([`mask`]) and by one evidence rule for word-valued variables (see
//! [`miner`]).
//!
//! ```
//! use faultline_engine::templates::TemplateMiner;
//!
//! let mut miner = TemplateMiner::new();
//! let a = miner.add("Connection closed by 10.0.0.1 port 22");
//! let b = miner.add("Connection closed by 10.0.0.7 port 2222");
//! assert_eq!(a, b);
//! assert_eq!(miner.template(a), Some("Connection closed by <*> port <*>"));
//! ```

mod bucket;
mod hashing;
pub mod id;
pub mod mask;
pub mod miner;
pub mod state;
pub mod tokenizer;

pub use id::TemplateId;
pub use miner::TemplateMiner;
pub use state::MinerState;
pub use tokenizer::mask_line;

/// How a variable is written in templates.
pub const VARIABLE: &str = "<*>";
