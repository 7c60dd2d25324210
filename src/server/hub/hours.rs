//! Business hours as the hub applies them: outside hours visitors are told
//! nobody is in (the widget offers the leave-a-message form) and when the
//! team is back; conversations already open go on as before.

use super::Hub;
use crate::server::hours::HoursGate;

impl Hub {
    /// Applies the hours now (from `server/hours.rs`' clock task); visitors
    /// hear of it only when something they see changes.
    pub fn set_hours(&self, gate: HoursGate) {
        let mut st = self.state();
        if st.hours == gate {
            return;
        }
        let before = st.availability();
        st.hours = gate;
        if st.availability() != before {
            st.broadcast_availability();
        }
    }

    /// When the team is next in, while outside business hours (unix ms).
    pub fn back_at(&self) -> Option<i64> {
        self.state().hours.back_at
    }
}
