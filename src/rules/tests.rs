//! Engine tests: loading errors, matching semantics, correlation, the built-in pack, the corpus.

mod builtin;
mod cache;
mod corpus;
mod engine;
