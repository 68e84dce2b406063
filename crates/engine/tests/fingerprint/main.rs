//! Integration tests, in one binary so they link once.

mod common;
mod cross_shape;
mod detection;
mod fingerprint;
mod go;
mod javascript;
mod jvm;
mod no_panic;
mod python;
