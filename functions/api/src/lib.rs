pub mod config;
pub mod handler;
pub mod problem;
pub mod routes;
