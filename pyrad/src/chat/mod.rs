//! Chat sessions and the turn loop. So far: history trimming to the model's
//! context budget; the turn loop, channels and approvals come next (issue 3).

pub mod builtin;
pub mod history;
pub mod tools;
pub mod turn;
