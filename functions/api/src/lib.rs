pub mod config;
pub mod faults;
pub mod handler;
pub mod identity;
pub mod problem;
pub mod routes;
