//! Account rules without HTTP: robot accounts (and, beside them in `auth`, users' credentials).

pub mod robots;
