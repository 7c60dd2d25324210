//! A visitor rating their closed conversation (issue 14): checked against
//! the stored conversation, stored once, then shown to both sides.

use super::{closed_summary, encode, Conn, Hub};
use crate::protocol::rating::{Rating, MAX_RATING_COMMENT_CHARS, RATING_SCORES};
use crate::protocol::{ConversationId, ConversationStatus, ErrorCode, ServerMsg};
use crate::server::storage::{now_ms, VisitorId};

/// Checks a rating's score and comment before anything is read.
pub fn check_rating(score: u8, comment: &str) -> Result<(), ErrorCode> {
    if !RATING_SCORES.contains(&score) {
        Err(ErrorCode::RatingScore)
    } else if comment.chars().count() > MAX_RATING_COMMENT_CHARS {
        Err(ErrorCode::RatingCommentTooLong)
    } else {
        Ok(())
    }
}

impl Hub {
    /// `visitor` rates `conversation`: only their own, only once it is
    /// closed, only once. Stored, the visitor's sockets get its summary
    /// with the score and the agent who closed it gets `rated`; refused,
    /// the rater gets the error.
    pub async fn rate(
        &self,
        visitor: VisitorId,
        conversation: ConversationId,
        score: u8,
        comment: String,
        conn: &Conn,
    ) {
        if let Err(code) = self.try_rate(visitor, conversation, score, comment).await {
            conn.send(&ServerMsg::error(code, None)).await;
        }
    }

    async fn try_rate(
        &self,
        visitor: VisitorId,
        conversation: ConversationId,
        score: u8,
        comment: String,
    ) -> Result<(), ErrorCode> {
        check_rating(score, &comment)?;
        let storage = self.storage();
        let stored = |e: crate::server::storage::StoreError| {
            tracing::error!(error = %e, "storing a rating failed");
            ErrorCode::Storage
        };
        let row = storage
            .conversation(conversation)
            .await
            .map_err(stored)?
            .filter(|row| row.visitor_id == visitor)
            .ok_or(ErrorCode::Forbidden)?;
        if row.status() != ConversationStatus::Closed {
            return Err(ErrorCode::ConversationOpen);
        }
        if row.rating.is_some() {
            return Err(ErrorCode::AlreadyRated);
        }
        let comment = comment.trim().to_owned();
        let at = now_ms();
        if !storage
            .rate(conversation, score, &comment, at)
            .await
            .map_err(stored)?
        {
            return Err(ErrorCode::AlreadyRated);
        }
        let mut summary = closed_summary(&row);
        summary.rating = Some(score);
        let rated = ServerMsg::Rated {
            conversation,
            rating: Rating { score, comment, at },
        };
        let st = self.state();
        st.to_visitor(
            visitor,
            &encode(&ServerMsg::Conversation {
                conversation: summary,
            }),
        );
        if let Some(agent) = row.agent_id {
            st.to_agent(agent, &encode(&rated));
        }
        Ok(())
    }
}
