//! Grace periods across nodes: every node sweeps every second, starts the
//! grace period (a deadline row in the database) of each agent who serves
//! conversations and has a console open on no live node, ends it for those
//! back, and requeues the conversations of those whose deadline passed —
//! whichever node set it, alive or not.

use std::time::Duration;

use super::Hub;
use crate::protocol::AgentId;
use crate::server::storage::now_ms;

/// How often each node looks for grace periods to start or end.
const SWEEP: Duration = Duration::from_secs(1);
/// Every how many sweeps a node checks every conversation it serves
/// against the database (a lost publication with nothing after it).
const CATCH_UP_EVERY: u32 = 3;

impl Hub {
    pub(super) async fn sweeper(self) {
        let mut tick = tokio::time::interval(SWEEP);
        let mut n: u32 = 0;
        loop {
            tick.tick().await;
            n = n.wrapping_add(1);
            self.sweep().await;
            if n.is_multiple_of(CATCH_UP_EVERY) {
                self.catch_up(false).await;
            }
        }
    }

    /// Starts the grace period of every agent who serves conversations and
    /// has no console open on any live node, ends it for those back, and
    /// requeues the conversations of those whose deadline passed.
    async fn sweep(&self) {
        let Some(cluster) = &self.0.cluster else {
            return;
        };
        // Redis away: presence unknown, which is not "nobody online".
        let Ok(others) = cluster.bus.others().await else {
            return;
        };
        let offline: Vec<AgentId> = {
            let mut st = self.state();
            if st.set_remote(others) {
                cluster.reload.notify_one();
            }
            st.agents
                .iter()
                .filter(|(_, a)| !a.online() && !a.convs.is_empty())
                .map(|(id, _)| *id)
                .collect()
        };
        let now = now_ms();
        let grace = i64::try_from(self.0.grace.as_millis()).unwrap_or(i64::MAX);
        for agent in offline {
            match cluster
                .coord
                .start_grace(agent, now.saturating_add(grace))
                .await
            {
                Ok(true) => self.tell_agent_gone(agent),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "starting a grace period failed"),
            }
        }
        let deadlines = match cluster.coord.grace_deadlines().await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "reading grace periods failed");
                return;
            }
        };
        let online = |agent: &AgentId| self.state().agents.get(agent).is_some_and(|a| a.online());
        for (agent, _) in deadlines.iter().filter(|(a, _)| online(a)) {
            if let Err(e) = cluster.coord.end_grace(*agent).await {
                tracing::warn!(error = %e, "ending a grace period failed");
            }
        }
        let due: Vec<AgentId> = deadlines
            .iter()
            .filter(|(a, deadline)| *deadline <= now && !online(a))
            .map(|(a, _)| *a)
            .collect();
        if due.is_empty() {
            return;
        }
        let _decision = self.decide().await;
        for agent in due {
            let taken = {
                let mut st = self.state();
                match st.agents.get_mut(&agent) {
                    Some(live) if live.online() => None,
                    Some(live) => Some((live.name.clone(), std::mem::take(&mut live.convs))),
                    None => Some((String::new(), Default::default())),
                }
            };
            if let Some((name, convs)) = taken {
                if !convs.is_empty() {
                    self.requeue(&name, convs).await;
                }
            }
            if let Err(e) = cluster.coord.end_grace(agent).await {
                tracing::warn!(error = %e, "ending a grace period failed");
            }
        }
    }

    /// Tells the visitors `agent` served that they left (their node died).
    fn tell_agent_gone(&self, agent: AgentId) {
        self.state().agent_left(agent);
    }
}
