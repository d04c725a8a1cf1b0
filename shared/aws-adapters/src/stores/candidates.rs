//! [`CandidateStore`]: reclamation candidates, in the account's user partition.

use async_trait::async_trait;
use futures::stream::BoxStream;

use super::keys::{CANDIDATE_PREFIX, users_pk};
use super::{Records, encode};
use crate::table::{PK, SK};
use ports::{CandidateStore, ReclamationCandidate, StoreError};

#[async_trait]
impl CandidateStore for Records {
    async fn replace_account_candidates(
        &self,
        cid: &str,
        account_id: &str,
        candidates: &[ReclamationCandidate],
    ) -> Result<(), StoreError> {
        let pk = users_pk(cid, account_id);
        let items = candidates
            .iter()
            .map(|c| {
                let sk = format!("{CANDIDATE_PREFIX}{}", c.user_key);
                Ok((sk.clone(), encode(c, &[(PK, pk.clone()), (SK, sk)], None)?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.replace_under_prefix(pk, CANDIDATE_PREFIX.into(), items)
            .await
    }

    fn list_account_candidates<'a>(
        &'a self,
        cid: &'a str,
        account_id: &'a str,
    ) -> BoxStream<'a, Result<ReclamationCandidate, StoreError>> {
        self.decoded_under(users_pk(cid, account_id), CANDIDATE_PREFIX)
    }
}
