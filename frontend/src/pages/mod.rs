//! One module per page of the console.

pub mod account;
pub mod admin;
pub mod not_found;
pub mod project;
pub mod projects;
pub mod repository;
pub mod sign_in;
