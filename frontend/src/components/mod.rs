//! Building blocks shared by the pages.

pub mod dialog;
pub mod error;
pub mod nav;
pub mod pager;
pub mod robots;
