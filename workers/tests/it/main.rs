//! Tests of the workers and storage governance against a real server on a loopback port, with
//! real pushes through `/v2`, the embedded workers, and (when `BERTH_TEST_REDIS_URL` is set, as
//! `scripts/test.sh` always does) a real Redis server.

mod gc;
mod governance;
mod queue;
mod support;
mod webhooks;
