//! "Why can Y do X?": [`Store::explain`] loads what [`castellan_core::explain::Explanation`]
//! reasons about: the user ([`Store::principal`]) and, in one query, the groups that either contain
//! the user or grant the permission.

use castellan_core::explain::{Explanation, Provenance};
use castellan_core::UserId;

use crate::error::Result;
use crate::sql::SqlText;
use crate::Store;

impl Store {
    /// Explains `perm` for the user `username` (`None` when no such user exists): the decision and
    /// its reasons, as [`Explanation::new`] derives them. Two queries (the principal, which may be
    /// cached, and the groups).
    pub async fn explain(&self, username: &str, perm: &str) -> Result<Option<Explanation>> {
        let Some(who) = self.principal(username).await? else {
            return Ok(None);
        };
        let provenance = match who.identity().id() {
            Some(id) => self.provenance(id, perm).await?,
            None => Provenance::default(),
        };
        Ok(Some(Explanation::new(&who, perm, &provenance)))
    }

    /// Explains `perm` for the anonymous user.
    pub async fn explain_anonymous(&self, perm: &str) -> Result<Explanation> {
        let who = self.anonymous().await?;
        Ok(Explanation::new(&who, perm, &Provenance::default()))
    }

    /// The groups that contain the user or grant the permission, in one query.
    async fn provenance(&self, user_id: UserId, perm: &str) -> Result<Provenance> {
        let Some((app_label, codename)) = perm.split_once('.') else {
            return Ok(Provenance::default());
        };
        let mut sql = SqlText::new(self.dialect());
        sql.push(
            "SELECT g.name AS name, \
             CASE WHEN EXISTS (SELECT 1 FROM auth_user_groups ug WHERE ug.group_id = g.id AND ug.user_id = ",
        )
        .param()
        .push(
            ") THEN 1 ELSE 0 END AS member, \
             CASE WHEN EXISTS (SELECT 1 FROM auth_group_permissions gp JOIN auth_permission p ON p.id = gp.permission_id \
             JOIN django_content_type ct ON ct.id = p.content_type_id WHERE gp.group_id = g.id AND ",
        )
        .exact("p.codename")
        .push(" AND ")
        .exact("ct.app_label")
        .push(") THEN 1 ELSE 0 END AS grants FROM auth_group g");
        let rows: Vec<(String, bool, bool)> = self
            .db
            .fetch_all(&sql, &[user_id.into(), codename.into(), app_label.into()])
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.text("name")?,
                    r.int("member")? != 0,
                    r.int("grants")? != 0,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut out = Provenance::default();
        for (name, member, grants) in rows {
            if member && grants {
                out.member_of.push(name.clone());
                out.granting_groups.push(name);
            } else if member {
                out.member_of.push(name);
            } else if grants {
                out.granting_groups.push(name);
            }
        }
        out.member_of.sort();
        out.granting_groups.sort();
        Ok(out)
    }
}
