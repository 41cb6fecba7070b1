//! Storage governance rules without I/O: doublestar selectors, immutability rules, tag retention
//! policies and Harbor's schedule objects. The registry, the REST API and the workers share them.

pub mod immutable;
pub mod retention;
pub mod schedule;
pub mod selector;

pub use immutable::ImmutableRule;
pub use retention::{RetentionPolicy, RetentionUnit};
pub use schedule::{Schedule, ScheduleError};
pub use selector::{ScopeSelectors, Selector, SelectorError};
