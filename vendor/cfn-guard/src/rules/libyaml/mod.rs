#![allow(clippy::all)]
mod cstr;
mod event;
pub mod loader;
mod parser;
mod tag;
mod util;
