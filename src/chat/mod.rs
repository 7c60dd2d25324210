//! Pieces shared by the widget and the console: the thread model, the
//! message list and composer, and the outbox to the socket.

pub mod link;
pub mod strings;
pub mod thread;
pub mod view;

pub use link::{LinkStatus, Outbox};
pub use strings::ChatStrings;
pub use thread::{Delivery, Entry, Notice, Thread};
