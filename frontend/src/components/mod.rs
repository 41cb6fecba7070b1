//! Building blocks shared by the pages.

pub mod audit;
pub mod dialog;
pub mod error;
pub mod job_log;
pub mod labels;
pub mod nav;
pub mod pager;
pub mod patterns;
pub mod robots;
pub mod search;
