pub mod config;
pub mod handler;
